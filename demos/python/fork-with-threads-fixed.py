"""fork-with-threads, fixed: start the child before the thread.

C demo: demos/fork-with-threads.c (mpshare run fork-with-threads).

The child is forked while the process has one thread: no lock can be
held by anybody else, and the child takes the log lock at once. The
other fixes: start children with forkserver or spawn (a fresh process,
not a copy: `mp.get_context("forkserver")`), which is Python 3.14's
default on Linux.
"""
import multiprocessing as mp
import os
import sys
import threading

LOG_LOCK = threading.Lock()


def log_line(text):
    if not LOG_LOCK.acquire(timeout=2):
        sys.exit("the log lock is held by a thread that does not exist in "
                 "the child: a plain acquire() would deadlock")
    try:
        print(text, flush=True)
    finally:
        LOG_LOCK.release()


def logger(held, release):
    with LOG_LOCK:
        held.set()
        release.wait()


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    child = ctx.Process(target=log_line, args=("child: logged",))
    child.start()                      # before any other thread exists
    held, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=logger, args=(held, release))
    thread.start()
    held.wait()
    child.join()
    release.set()
    thread.join()
    if child.exitcode != 0:
        sys.exit(f"the child exited with {child.exitcode}: it could not "
                 "take the log lock")
    print("logged: 1 line")


if __name__ == "__main__":
    main()
