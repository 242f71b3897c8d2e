"""fork-with-threads, broken: fork while another thread holds a lock.

C demo: demos/fork-with-threads.c (mpshare run fork-with-threads).

A logging thread holds the program's log lock (a long write) while the
main thread starts a child with fork. fork copies the memory, the lock
held, but not the thread that holds it: in the child nobody will ever
release it, and the child's first log line would block forever. The
child takes the lock with a timeout so that the program ends: the
timeout only bounds the wait, the lock is really held. Python 3.12 and
later warn at the fork (the warning is shown here; by default it is
hidden outside __main__).
"""
import multiprocessing as mp
import os
import sys
import threading
import warnings

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
    warnings.simplefilter("default", DeprecationWarning)
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    held, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=logger, args=(held, release))
    thread.start()
    held.wait()
    child = ctx.Process(target=log_line, args=("child: logged",))
    child.start()
    child.join()
    release.set()
    thread.join()
    if child.exitcode != 0:
        sys.exit(f"the child exited with {child.exitcode}: it could not "
                 "take the log lock")
    print("child: logged")


if __name__ == "__main__":
    main()
