"""inheritance-only, broken, as the article met it: ProcessPoolExecutor.

C demo: demos/inheritance-only.c (mpshare run inheritance-only).
A variant of inheritance-only-broken.py; the fix is the same
(inheritance-only-fixed.py: an initializer).

One job gets the shared total as an argument; the executor pickles the
job for its call queue and the Value refuses: RuntimeError "Synchronized
objects should only be shared between processes through inheritance".
"""
import concurrent.futures as cf
import multiprocessing as mp
import os


def add_squares(numbers, total):
    for n in numbers:
        with total.get_lock():
            total.value += n * n


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    total = ctx.Value("i", 0)
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        executor.submit(add_squares, range(6), total).result()
    print(f"total: {total.value}")


if __name__ == "__main__":
    main()
