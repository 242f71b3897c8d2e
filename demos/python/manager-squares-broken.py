"""manager-squares, broken: the article's manager sample, with its own bug.

C demo: demos/manager-squares.c (mpshare run manager-squares).

Three pool workers append SquaredNum objects to a manager list and add
to a manager Value with `total.value += square(n)`. The list is right
(each append is one request); the total is a read request, the work,
then a write request, and workers that overlap overwrite each other's
additions: the lost update the article's `squared_nums_total.value +=
squared_num` carries. The program checks the total and exits 1.
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


def parallel_func(num, squared_nums, total):
    squared_nums.append(SquaredNum(num, num * num))
    total.value += square(num)  # read, work, write: not atomic


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        squared_nums = manager.list()
        total = manager.Value("i", 0)
        with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
            futures = [executor.submit(parallel_func, n, squared_nums, total)
                       for n in range(6)]
            for future in cf.as_completed(futures):
                future.result()
        found = sorted(s.squared_num for s in squared_nums)
        got = total.value
    print(f"squares: {found}")
    if got != 55:
        sys.exit(f"total is {got}, expected 55: the total is too small")
    print(f"total: {got}")


if __name__ == "__main__":
    main()
