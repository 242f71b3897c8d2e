"""broken-pool, broken: one task ends its worker, every pending job fails.

C demo: demos/broken-pool.c (mpshare run broken-pool).

Job 4 meets a bad input and its worker exits on the spot (as a crash in
native code, or an exit() deep in a library, would). The pool cannot
tell what that worker was doing, so every job not yet finished fails
with BrokenProcessPool.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os


def square(n):
    if n == 4:
        os._exit(1)  # the bad input kills the worker
    return n * n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        futures = [executor.submit(square, n) for n in range(9)]
        print(f"squares: {[f.result() for f in futures]}")


if __name__ == "__main__":
    main()
