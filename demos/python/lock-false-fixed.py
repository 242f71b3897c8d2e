"""lock-false, fixed: create the Value with its lock (the default).

C demo: demos/lock-false.c (mpshare run lock-false).

`Value("i", 0)` comes with a lock; holding it across the read, the
addition and the write makes each `+=` whole.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import sys

total = None


def keep(shared):
    global total
    total = shared


def add(n):
    with total.get_lock():
        total.value += n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    shared = ctx.Value("i", 0)
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx,
                                initializer=keep,
                                initargs=(shared,)) as executor:
        list(executor.map(add, range(10)))
    if shared.value != 45:
        sys.exit(f"total is {shared.value}, expected 45")
    print(f"total: {shared.value}")


if __name__ == "__main__":
    main()
