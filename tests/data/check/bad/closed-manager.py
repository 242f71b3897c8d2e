# Proxies used after their manager has ended.
import multiprocessing
from multiprocessing import Manager


def squares(n):
    with Manager() as manager:
        result = manager.list()
        for i in range(n):
            result.append(i * i)
        return result  # expect: closed-manager


def total():
    with multiprocessing.Manager() as m:
        counts = m.dict()
        counts["a"] = 1
    return sum(counts.values())  # expect: closed-manager


def after_shutdown():
    m = Manager()
    ns = m.Namespace()
    ns.x = 1
    m.shutdown()
    print(ns.x)  # expect: closed-manager


if __name__ == "__main__":
    print(squares(3))
    print(total())
    after_shutdown()
    with Manager() as manager:
        shared = manager.list([1, 2])
    print(len(shared))  # expect: closed-manager
