"""lock-false, broken: a Value made with lock=False, then locked.

C demo: demos/lock-false.c (mpshare run lock-false).

`Value("i", 0, lock=False)` is a bare ctypes integer in shared memory:
no lock comes with it, so `get_lock()` does not exist. The workers fail
with AttributeError "'c_int' object has no attribute 'get_lock'" (and
without that call they would race and lose updates).
"""
import concurrent.futures as cf
import multiprocessing as mp
import os

total = None


def keep(shared):
    global total
    total = shared


def add(n):
    with total.get_lock():
        total.value += n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    shared = ctx.Value("i", 0, lock=False)  # "faster": no lock
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx,
                                initializer=keep,
                                initargs=(shared,)) as executor:
        list(executor.map(add, range(10)))
    print(f"total: {shared.value}")


if __name__ == "__main__":
    main()
