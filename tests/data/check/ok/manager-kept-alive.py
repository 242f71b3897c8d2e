# The manager outlives its proxies: it is shut down after the last use.
from multiprocessing import Manager


def build():
    manager = Manager()
    items = manager.list([1, 2, 3])
    return manager, items


if __name__ == "__main__":
    manager, items = build()
    print(sum(items))
    manager.shutdown()
