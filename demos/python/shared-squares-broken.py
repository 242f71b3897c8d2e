"""shared-squares, broken: the article's first sample, with its own bug.

C demo: demos/shared-squares.c (mpshare run shared-squares).

One process per number squares it into a shared Array and adds it to a
shared total with `total.value += square(n)`: the lost update of the
article's line `squared_nums_total.value += squared_num`. Here the work
sits inside the `+=` (read first, work, write last), so processes that
overlap overwrite each other's additions on every run. The squares
array is right; the total is too small, and the program says so.
"""
import multiprocessing as mp
import os
import sys
import time


def square(n):
    time.sleep(0.2)  # stands for the real work
    return n * n


def parallel_square(n, squares, total):
    squares[n] = n * n
    total.value += square(n)  # the read comes before the work


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    numbers = [0, 1, 2, 3, 4, 5]
    squares = ctx.Array("i", len(numbers))
    total = ctx.Value("i", 0)
    processes = [ctx.Process(target=parallel_square, args=(n, squares, total))
                 for n in numbers]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    print(f"squares: {squares[:]}")
    if total.value != 55:
        sys.exit(f"total is {total.value}, expected 55: "
                 f"the total is too small")
    print(f"total: {total.value}")


if __name__ == "__main__":
    main()
