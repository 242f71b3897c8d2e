"""as-completed-order, fixed: map() returns results in submission order.

C demo: demos/as-completed-order.c (mpshare run as-completed-order).

`executor.map` yields the results in the order of its inputs, whatever
order the jobs finish in. (Or keep each future's index with it and
place the result at that index.)
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import sys
import time


def square(n):
    time.sleep(1.0 if n == 0 else 0.01)  # job 0 has the big input
    return n * n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    numbers = list(range(9))
    with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
        squares = list(executor.map(square, numbers))
    expected = [n * n for n in numbers]
    if squares != expected:
        sys.exit(f"squares came in the wrong order: {squares}, "
                 f"expected {expected}")
    print(f"squares: {squares}")


if __name__ == "__main__":
    main()
