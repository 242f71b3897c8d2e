"""broken-pool, fixed: a bad input is an exception, not a dead worker.

C demo: demos/broken-pool.c (mpshare run broken-pool).

The task raises ValueError instead of ending its process. The error
comes back on that job's future only; the pool and every other job go
on.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import sys


def square(n):
    if n == 4:
        raise ValueError(f"bad input {n}")
    return n * n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    squares, failed = {}, []
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        futures = {executor.submit(square, n): n for n in range(9)}
        for future, n in futures.items():
            try:
                squares[n] = future.result()
            except ValueError:
                failed.append(n)
    if failed != [4] or len(squares) != 8:
        sys.exit(f"failed jobs {failed}, squares {squares}: expected only "
                 f"job 4 to fail")
    print(f"squares: {[squares[n] for n in sorted(squares)]}, "
          f"failed: {failed}")


if __name__ == "__main__":
    main()
