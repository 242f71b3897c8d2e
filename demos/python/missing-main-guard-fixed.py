"""missing-main-guard, fixed: everything that runs goes under the guard.

C demo: demos/missing-main-guard.c (mpshare run missing-main-guard).

A worker that imports this script again now only defines square(): the
data is loaded once, and only the parent starts the pool.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import sys


def square(n):
    return n * n


def main():
    print(f"loading the data in process {os.getpid()}", flush=True)
    numbers = list(range(6))
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        squares = list(executor.map(square, numbers))
    if squares != [0, 1, 4, 9, 16, 25]:
        sys.exit(f"squares are {squares}, expected [0, 1, 4, 9, 16, 25]")
    print(f"squares: {squares}")


if __name__ == "__main__":
    main()
