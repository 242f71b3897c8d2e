"""manager-squares, fixed: a manager Lock around the total's update.

C demo: demos/manager-squares.c (mpshare run manager-squares).

The work is done first; then the read and the write of the manager
Value happen while a manager Lock is held, so no other worker can read
in between.
"""
import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
import os
import sys
import time


@dataclasses.dataclass
class SquaredNum:
    num: int
    squared_num: int


def square(n):
    time.sleep(0.2)  # stands for the real work
    return n * n


def parallel_func(num, squared_nums, total, lock):
    squared = square(num)
    squared_nums.append(SquaredNum(num, squared))
    with lock:
        total.value += squared


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        squared_nums = manager.list()
        total = manager.Value("i", 0)
        lock = manager.Lock()
        with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
            futures = [executor.submit(parallel_func, n, squared_nums, total,
                                       lock) for n in range(6)]
            for future in cf.as_completed(futures):
                future.result()
        found = sorted(s.squared_num for s in squared_nums)
        got = total.value
    print(f"squares: {found}")
    if found != [0, 1, 4, 9, 16, 25] or got != 55:
        sys.exit(f"total is {got}, expected 55")
    print(f"total: {got}")


if __name__ == "__main__":
    main()
