"""as-completed-order, broken: results collected with as_completed().

C demo: demos/as-completed-order.c (mpshare run as-completed-order).

As in the article, the results are appended as the futures complete.
The first job has the biggest input and takes longest, so its square
arrives last and the list is not in the order of the numbers. Nothing
fails; the program compares and exits 1.
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
    squares = []
    with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
        futures = [executor.submit(square, n) for n in numbers]
        for future in cf.as_completed(futures):
            squares.append(future.result())
    expected = [n * n for n in numbers]
    if squares != expected:
        sys.exit(f"squares came in the wrong order: {squares}, "
                 f"expected {expected}")
    print(f"squares: {squares}")


if __name__ == "__main__":
    main()
