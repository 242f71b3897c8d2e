/* test-process-common.h — what the process and pool suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sys/types.h>

#include "mpshare.h"

G_BEGIN_DECLS

/* TestFd: an object holding a (borrowed) fd that travels only by
 * inheritance, the way shared memory and locks do: its reducer asks the
 * process being started to keep the fd, and the child rebuilds it with the
 * same number. */
#define TEST_TYPE_FD (test_fd_get_type ())
G_DECLARE_FINAL_TYPE (TestFd, test_fd, TEST, FD, GObject)

TestFd   *test_fd_new          (int fd);
int       test_fd_get_fd       (TestFd *self);

/* A pipe the test controls: a child blocks reading `read_end` until the
 * test writes a byte (no sleeps as synchronisation). */
typedef struct
{
  int read_end;
  int write_end;
} TestPipe;

void      test_pipe_open       (TestPipe *pipe);
void      test_pipe_close      (TestPipe *pipe);
void      test_pipe_release    (TestPipe *pipe);
gboolean  test_fd_read_byte    (int fd);
gboolean  test_fd_write_all    (int fd, const void *data, gsize length);
gboolean  test_fd_write_message (int fd, const void *data, gsize length);
GBytes   *test_fd_read_message (int fd);

/* Every child of this process has been reaped. */
void      test_assert_no_children (void);

/* The start method a test runs under, from its data pointer. */
#define TEST_METHOD(data) ((MpStartMethod) GPOINTER_TO_INT (data))

void      test_add_both_methods (const char *path_format,
                                 GTestDataFunc func);

/* Waits (poll on a pidfd, at most @backstop_ms) until @pid has exited;
 * a zombie counts. FALSE if it still runs. */
gboolean  test_wait_process_gone (pid_t pid,
                                  guint backstop_ms);

/* The calling thread's kernel id; waiting (bounded) until such a thread
 * has been let go by the kernel, after g_thread_join(). */
pid_t     test_gettid           (void);
void      test_wait_thread_gone (pid_t tid);

/* Adds @prefix/{fork,spawn}/{sigkill,sigterm}: helper-orphans @kind is
 * killed with the signal; every process it started must end and leave
 * nothing in the temp dir or /dev/shm. */
void      test_add_orphan_tests (const char *prefix,
                                 const char *kind);

G_END_DECLS
