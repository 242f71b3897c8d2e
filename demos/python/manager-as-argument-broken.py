"""manager-as-argument, broken: the manager itself passed to a task.

C demo: demos/manager-as-argument.c (mpshare run manager-as-argument).

Each task wants to make its own list in the manager, so it gets the
manager. But a manager carries the auth key of its server, and the key
refuses to be pickled: TypeError "Pickling an AuthenticationString object
is disallowed for security reasons".
"""
import concurrent.futures as cf
import multiprocessing as mp
import os


def squares_upto(manager, n):
    squares = manager.list()
    for i in range(n):
        squares.append(i * i)
    return list(squares)


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
            future = executor.submit(squares_upto, manager, 6)
            print(f"squares: {future.result()}")


if __name__ == "__main__":
    main()
