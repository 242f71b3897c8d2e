# A manager Value updated by pool tasks under a manager Lock.
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager


def add(total, lock, n):
    with lock:
        total.value += n


def main():
    with Manager() as manager:
        total = manager.Value("i", 0)
        lock = manager.Lock()
        with ProcessPoolExecutor(max_workers=3) as ex:
            for n in range(6):
                ex.submit(add, total, lock, n)
        print(total.value)


if __name__ == "__main__":
    main()
