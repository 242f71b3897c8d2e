/* demo-text.h — everything a person reads fits 80 columns
 *
 * The demos and `mpshare` print through GLib (g_print, g_printerr). One
 * helper wraps every complete line wider than 80 columns (or $COLUMNS) at word
 * boundaries, under the line's own indent: a line "   | message: ..."
 * goes on under "message: ", one starting "=> " under its text. Nothing
 * is cut: a word wider than the room left (a long path) is split across
 * lines. Colour escape sequences take no columns.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DEMO_TEXT_WIDTH 80

/* The width lines are wrapped to: 80, or $COLUMNS when the user exported
 * a wider terminal's width (a number of 40 or more). The tests that read
 * what the programs say, not how it fits, set it very wide. */
guint    demo_text_width     (void);

/* Columns @text takes on a terminal (ESC [ ... m sequences take none). */
guint    demo_text_columns   (const char *text);

/* @line (no newline) wrapped to @width columns under its indent: lines
 * joined by '\n', without a final one. A line that fits is returned as it
 * is. */
char    *demo_text_wrap      (const char *line,
                              guint       width);

/* Routes g_print() and g_printerr() through demo_text_wrap() in this
 * process and the ones it forks. The demos have it done before main()
 * (demo-common.c), so a spawned child, diverted by mp_main_guard() before
 * anything else, prints through it too; `mpshare` calls it first in
 * main(). Text printed without a newline (a prompt) goes out at once and
 * the rest of its line is not wrapped. */
void     demo_text_install   (void);

/* @message (a library error's) as a student reads it: a GLib class's
 * private name gives way to the public class the library names beside
 * it. "GLocalFileInputStream holds a live OS handle (it is a
 * GInputStream)" reads "a GInputStream holds a live OS handle". The
 * error boxes show it so unless --verbose asks for GLib's internals. */
char    *demo_text_public_types (const char *message);

G_END_DECLS
