"""inheritance-only, fixed: hand the Array to each worker once, at start.

C demo: demos/inheritance-only.c (mpshare run inheritance-only).

The pool's initializer receives the Array while each worker is being
started (inheritance, the one way it may travel) and keeps it in a
module global; the tasks then only carry the index. (A
ProcessPoolExecutor takes the same initializer and initargs.)
"""
import multiprocessing as mp
import os
import sys

squares = None


def keep(shared):
    global squares
    squares = shared


def square_into(i):
    squares[i] = i * i


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    shared = ctx.Array("i", 6)
    with ctx.Pool(processes=3, initializer=keep, initargs=(shared,)) as pool:
        pool.map(square_into, range(6))
    if shared[:] != [0, 1, 4, 9, 16, 25]:
        sys.exit(f"squares are {shared[:]}, expected [0, 1, 4, 9, 16, 25]")
    print(f"squares: {shared[:]}")


if __name__ == "__main__":
    main()
