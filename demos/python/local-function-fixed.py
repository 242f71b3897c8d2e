"""local-function, fixed: the task is a module-level function.

C demo: demos/local-function.c (mpshare run local-function).

A worker finds square() by its name in this module, which it has
(fork: inherited; spawn and forkserver: imported again).
"""
import multiprocessing as mp
import os
import sys


def square(n):
    return n * n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Pool(processes=2) as pool:
        squares = pool.map(square, range(6))
    if squares != [0, 1, 4, 9, 16, 25]:
        sys.exit(f"squares are {squares}, expected [0, 1, 4, 9, 16, 25]")
    print(f"squares: {squares}")


if __name__ == "__main__":
    main()
