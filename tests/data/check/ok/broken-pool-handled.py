# A task may end its worker; the parent handles the broken pool and
# resubmits what did not finish to a fresh executor.
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


def risky(n):
    if n == 3:
        os._exit(1)
    return n


def main():
    pending = list(range(5))
    try:
        with ProcessPoolExecutor() as ex:
            print(list(ex.map(risky, pending)))
    except BrokenProcessPool:
        with ProcessPoolExecutor() as ex:
            print(list(ex.map(risky, [n for n in pending if n != 3])))


if __name__ == "__main__":
    main()
