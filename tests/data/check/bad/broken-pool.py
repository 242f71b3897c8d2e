# Tasks that end their own worker, with nothing to handle a broken pool.
import multiprocessing as mp
import os
import signal
from concurrent.futures import ProcessPoolExecutor


def crash(n):
    if n == 3:
        os._exit(1)  # expect: broken-pool
    return n


def kill_self(n):
    os.kill(os.getpid(), signal.SIGKILL)  # expect: broken-pool


def helper():
    os.abort()  # expect: broken-pool


def indirect(n):
    helper()
    return n


def main():
    with ProcessPoolExecutor() as ex:
        print(list(ex.map(crash, range(5))))
        ex.submit(indirect, 1)
    with mp.Pool(2) as pool:
        pool.apply_async(kill_self, (1,))


if __name__ == "__main__":
    main()
