# Synchronized objects sent to pool and executor tasks, in several forms.
import functools
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from functools import partial


class Holder:
    def __init__(self):
        self.total = mp.Value("i", 0)


def add(total, n):
    with total.get_lock():
        total.value += n


def add_holder(holder, n):
    return n


def use_lock(lock):
    with lock:
        pass


def main():
    total = mp.Value("i", 0)
    arr = mp.Array("d", 10)
    lock = mp.Lock()
    queue = mp.Queue()
    holder = Holder()
    alias = total
    with ProcessPoolExecutor() as ex:
        ex.submit(add, total, 1)  # expect: inheritance-only
        ex.submit(functools.partial(add, arr), 2)  # expect: inheritance-only
        ex.submit(partial(add, alias), 2)  # expect: inheritance-only
        ex.submit(add_holder, holder, 3)  # expect: inheritance-only
        list(ex.map(use_lock, [lock, lock]))  # expect: inheritance-only
    with mp.Pool(2) as pool:
        pool.apply_async(add, args=(total, 1)).get()  # expect: inheritance-only
        pool.starmap(add, [(total, i) for i in range(4)])  # expect: inheritance-only
        pool.apply(use_lock, (queue,))  # expect: inheritance-only
        pool.map(use_lock, [mp.Event()])  # expect: inheritance-only


if __name__ == "__main__":
    main()
