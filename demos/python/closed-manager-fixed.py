"""closed-manager, fixed: copy the results out while the manager lives.

C demo: demos/closed-manager.c (mpshare run closed-manager).

`list(results)` inside the `with` block makes an ordinary list in the
parent; it outlives the manager.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import sys


def record(results, n):
    results.append(n * n)


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        results = manager.list()
        with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
            for n in range(6):
                executor.submit(record, results, n)
        squares = sorted(results)  # a plain list, copied while we can
    if squares != [0, 1, 4, 9, 16, 25]:
        sys.exit(f"squares are {squares}, expected [0, 1, 4, 9, 16, 25]")
    print(f"squares: {squares}")


if __name__ == "__main__":
    main()
