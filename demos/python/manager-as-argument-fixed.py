"""manager-as-argument, fixed: make the list in the parent, pass its proxy.

C demo: demos/manager-as-argument.c (mpshare run manager-as-argument).

A proxy travels as a token (address and object id); the worker connects
to the server with the auth key it inherited when it was started.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import sys


def squares_upto(squares, n):
    for i in range(n):
        squares.append(i * i)


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        squares = manager.list()
        with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
            executor.submit(squares_upto, squares, 6).result()
        found = list(squares)
    if found != [0, 1, 4, 9, 16, 25]:
        sys.exit(f"squares are {found}, expected [0, 1, 4, 9, 16, 25]")
    print(f"squares: {found}")


if __name__ == "__main__":
    main()
