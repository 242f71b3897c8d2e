"""shared-squares, fixed: the total is updated under its lock.

C demo: demos/shared-squares.c (mpshare run shared-squares).

Each process does its work first and then adds the result with the
Value's lock held across the read, the addition and the write.
"""
import multiprocessing as mp
import os
import sys
import time


def square(n):
    time.sleep(0.2)  # stands for the real work
    return n * n


def parallel_square(n, squares, total):
    squared = square(n)
    squares[n] = squared
    with total.get_lock():
        total.value += squared


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
    if squares[:] != [0, 1, 4, 9, 16, 25] or total.value != 55:
        sys.exit(f"total is {total.value}, expected 55")
    print(f"total: {total.value}")


if __name__ == "__main__":
    main()
