# The manager itself, or an object holding it, sent to a task.
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager


class Store:
    def __init__(self, manager):
        self.manager = manager
        self.items = manager.list()


def fill(m, n):
    return n


def fill_store(store, n):
    return n


def main():
    with Manager() as manager:
        store = Store(manager)
        with ProcessPoolExecutor() as ex:
            ex.submit(fill, manager, 1).result()  # expect: manager-as-argument
            ex.submit(fill_store, store, 2).result()  # expect: manager-as-argument
        mgr = manager
        with mp.Pool(2) as pool:
            pool.apply(fill, (mgr, 3))  # expect: manager-as-argument
    ctx = mp.get_context("spawn")
    m2 = ctx.Manager()
    p = ctx.Process(target=fill, args=(m2, 4))  # expect: manager-as-argument
    p.start()
    p.join()
    m2.shutdown()


if __name__ == "__main__":
    main()
