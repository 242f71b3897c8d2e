"""lock-false, broken, with an Array made with lock=False.

C demo: demos/lock-false.c (mpshare run lock-false).
A variant of lock-false-broken.py; the fix is the same
(lock-false-fixed.py: keep the lock).

`Array("i", 6, lock=False)` is a bare ctypes array: AttributeError
"'c_int_Array_6' object has no attribute 'get_lock'".
"""
import multiprocessing as mp
import os


def square_into(squares, i):
    with squares.get_lock():
        squares[i] = i * i


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    squares = ctx.Array("i", 6, lock=False)
    workers = [ctx.Process(target=square_into, args=(squares, i))
               for i in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if any(w.exitcode != 0 for w in workers):
        raise SystemExit(1)
    print(f"squares: {squares[:]}")


if __name__ == "__main__":
    main()
