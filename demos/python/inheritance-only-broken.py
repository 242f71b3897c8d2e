"""inheritance-only, broken: a shared Array handed to pool tasks.

C demo: demos/inheritance-only.c (mpshare run inheritance-only).

A synchronized Array may cross to another process only while that
process is being started. A task's arguments are pickled later, so the
tasks fail: RuntimeError "SynchronizedArray objects should only be
shared between processes through inheritance". ProcessPoolExecutor
gives the same error (where the article met it); on Python 3.8 an
executor with several such tasks then hangs in its shutdown, a 3.8 bug,
so this program uses a Pool.
"""
import multiprocessing as mp
import os


def square_into(squares, i):
    squares[i] = i * i


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    squares = ctx.Array("i", 6)
    with ctx.Pool(processes=3) as pool:
        pool.starmap(square_into, [(squares, i) for i in range(6)])
    print(f"squares: {squares[:]}")


if __name__ == "__main__":
    main()
