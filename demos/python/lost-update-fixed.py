"""lost-update, fixed: hold the Value's lock across read, add and write.

C demo: demos/lost-update.c (mpshare run lost-update).

The work is done first, outside the lock; only the read-modify-write is
under `get_lock()`, so no process can read between another's read and
its write. (The other fix: return per-task counts and add them up in the
parent.)
"""
import multiprocessing as mp
import os
import sys
import time


def handle(request):
    time.sleep(0.02)  # stands for the real work
    return 1


def serve(requests, hits):
    for request in requests:
        done = handle(request)
        with hits.get_lock():
            hits.value += done


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    hits = ctx.Value("i", 0)
    workers = [ctx.Process(target=serve, args=(range(10), hits))
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if hits.value != 40:
        sys.exit(f"hits is {hits.value}, expected 40: the total is too small")
    print(f"hits: {hits.value}")


if __name__ == "__main__":
    main()
