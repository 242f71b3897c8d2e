# A shared Value updated under its own lock by several processes.
from multiprocessing import Process, Value


def add(total, n):
    for _ in range(n):
        with total.get_lock():
            total.value += 1


if __name__ == "__main__":
    total = Value("i", 0)
    workers = [Process(target=add, args=(total, 1000)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(total.value)
