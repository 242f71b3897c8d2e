/* tour-html.h — `mpshare tour --html DIR`: one self-contained page for a
 * classroom, with every demo's verdicts, its recorded timelines as SVG and
 * its doc page.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <mpshare.h>

G_BEGIN_DECLS

/* What one half of a demo did, as the tour saw it. */
typedef struct {
  gboolean  ran;
  gboolean  passed;       /* exit 0: reproduced, or fixed */
  gboolean  timed_out;
  int       wait_status;
  char     *output_file;  /* what it printed (stdout and stderr), in DIR */
  char     *trace_file;   /* its trace JSON, in DIR */
} TourHalf;

typedef struct {
  const MpCatalogEntry *entry;
  TourHalf              broken;
  TourHalf              fixed;
} TourDemo;

void      tour_half_clear         (TourHalf       *half);

char     *tour_html_timeline_svg  (JsonNode       *trace,
                                   const char     *title);
gboolean  tour_html_write         (const char     *dir,
                                   const TourDemo *demos,
                                   guint           n_demos,
                                   const char     *start_method,
                                   const char     *docs_dir,
                                   const char     *coverage_page,
                                   GError        **error);

G_END_DECLS
