# Namespace attributes are set on the proxy itself, and read by tasks.
from multiprocessing import Manager, Pool


def read(ns, n):
    return ns.factor * n


if __name__ == "__main__":
    with Manager() as manager:
        ns = manager.Namespace()
        ns.factor = 3
        ns.factor = ns.factor + 1
        with Pool(2) as pool:
            print(pool.starmap(read, [(ns, n) for n in range(4)]))
