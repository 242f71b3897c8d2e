/* demo-common.h — the shared frame of the mpshare demos
 *
 * Every demo is a short lesson in two halves: "broken" reproduces a pitfall
 * and "fixed" shows the cure. This frame parses the common options, prints
 * the steps, the reproduced errors and the verdicts, and turns the verdicts
 * into the exit status (0 only when every half asked for succeeded).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mpshare.h"

G_BEGIN_DECLS

typedef struct _Demo Demo;

/**
 * DemoHalfFunc:
 * @demo: the running demo
 *
 * One half of a lesson. The broken half returns %TRUE only when the
 * failure really happened as documented; the fixed half only when its
 * result was checked and found correct. Use demo_reject() to say why not.
 */
typedef gboolean (*DemoHalfFunc) (Demo *demo);

typedef struct {
  const char   *name;            /* the pitfall id, e.g. "broken-pool" */
  const char   *summary;         /* 3-5 lines for --help */
  gboolean      uses_workers;    /* offer --workers N */
  guint         default_workers;
  DemoHalfFunc  broken;
  DemoHalfFunc  fixed;
  const GOptionEntry *extra_options;  /* the demo's own, or NULL */
  gboolean      tells_a_story;   /* records always: its halves call
                                  * demo_show_timeline() where they explain */
  const gboolean *untold_if;     /* an option that turns the story off, or NULL */
} DemoInfo;

int            demo_run            (const DemoInfo *info,
                                    int             argc,
                                    char          **argv);

/* what the options asked for */
MpStartMethod  demo_get_start_method (Demo *demo);
MpStartMethod  demo_get_start_method_without_copy (Demo *demo);
guint          demo_get_workers      (Demo *demo);

/* printing the story */
void           demo_step           (Demo       *demo,
                                    const char *format,
                                    ...) G_GNUC_PRINTF (2, 3);
void           demo_say            (const char *format,
                                    ...) G_GNUC_PRINTF (1, 2);
void           demo_print_error    (const GError *error);
gboolean       demo_reject         (Demo       *demo,
                                    const char *format,
                                    ...) G_GNUC_PRINTF (2, 3);
gboolean       demo_reject_error   (Demo         *demo,
                                    const GError *error,
                                    const char   *format,
                                    ...) G_GNUC_PRINTF (3, 4);

/* Showing what was recorded (--timeline, --trace FILE.json, or always for
 * a demo that tells a story): the swimlane of the processes since the half
 * began or since the last timeline shown. Recording goes on afterwards,
 * for the processes started from then on. */
gboolean       demo_is_recording   (Demo       *demo);
void           demo_show_timeline  (Demo       *demo,
                                    const char *what);

/* small checks */
char          *demo_format_ints    (const gint64 *values,
                                    gsize         n);
gboolean       demo_value_get_int  (const GValue *value,
                                    gint64       *out);
gboolean       demo_error_is_mp    (const GError *error,
                                    MpError       code);

/* a manager of the demo's own, started (NULL with @error when it fails) */
MpManager     *demo_start_manager  (GError    **error);

/* one process per argument list, all running @task; joined before it returns */
gboolean       demo_run_processes  (Demo       *demo,
                                    const char *task,
                                    GPtrArray  *args_list,
                                    MpBarrier  *start_line,
                                    GError    **error);

/* Measuring a race (lock-false, lost-update --race): how many updates were
 * lost is counted, not assumed. A run that happens to lose nothing is
 * repeated with ten times the work, a bounded number of times. */
#define DEMO_RACE_MAX_ITERATIONS 10000000

/**
 * DemoRaceRun:
 * @demo: the running demo
 * @n: additions per process
 * @user_data: the race's data
 *
 * Runs the race once, --workers processes adding 1 @n times each, and
 * prints its own step.
 *
 * Returns: the final count, or -1 once it has rejected the half.
 */
typedef gint64 (*DemoRaceRun) (Demo     *demo,
                               gint64    n,
                               gpointer  user_data);

typedef struct {
  DemoRaceRun  run;
  const char  *counted;   /* what the output calls the result: "count" */
  const char  *silently;  /* how the loss went unnoticed: "with no error" */
  const char  *hint;      /* added when nothing was ever lost, or NULL */
  gint64       recorded_max;  /* additions per process while recording;
                               * 0: DEMO_RACE_MAX_RECORDED */
} DemoRace;

/* Recording every addition of a long race would make a trace of
 * gigabytes: while recording, a race adds at most this many times per
 * process (when each addition takes a lock: some ten events), and says so. */
#define DEMO_RACE_MAX_RECORDED 1000

gint64         demo_race_iterations (Demo           *demo,
                                     gint64          n,
                                     gint64          recorded_max);
gboolean       demo_race_until_lost (Demo           *demo,
                                     const DemoRace *race,
                                     gint64          n,
                                     gpointer        user_data);

/* A gate: a named FIFO that tasks wait at until the parent opens it. It
 * makes "this task is still running" a fact the demo controls, with no
 * sleeps. The timeout in the task is a backstop only. */
typedef struct _DemoGate DemoGate;

DemoGate      *demo_gate_new       (GError    **error);
const char    *demo_gate_get_path  (DemoGate   *gate);
gboolean       demo_gate_open      (DemoGate   *gate,
                                    GError    **error);
void           demo_gate_free      (DemoGate   *gate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DemoGate, demo_gate_free)

gboolean       demo_gate_wait      (const char *path,
                                    guint       timeout_ms,
                                    GError    **error);

/* run this very binary again as a plain program (not through mpshare) */
gboolean       demo_run_self       (const char * const *args,
                                    guint        timeout_s,
                                    int         *exit_status,
                                    GError     **error);

G_END_DECLS
