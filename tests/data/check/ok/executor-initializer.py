# The same with an executor, an Array and a Lock.
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Array, Lock

_data = None
_lock = None


def setup(data, lock):
    global _data, _lock
    _data = data
    _lock = lock


def bump(i):
    with _lock:
        _data[i] += 1
    return i


def main():
    data = Array("i", 4, lock=False)
    lock = Lock()
    with ProcessPoolExecutor(max_workers=2, initializer=setup,
                             initargs=(data, lock)) as ex:
        list(ex.map(bump, [0, 1, 2, 3, 0]))
    print(list(data))


if __name__ == "__main__":
    main()
