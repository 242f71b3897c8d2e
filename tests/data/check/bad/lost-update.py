# Read-modify-write of shared values from several processes, no lock held.
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager, Process, Value

total = Value("i", 0)


def add(n):
    total.value += n  # expect: lost-update


def add_twice(counter, n):
    counter.value = counter.value + n  # expect: lost-update


def add_to_array(arr, i):
    arr[i] += 1  # expect: lost-update


def add_to_manager_value(mv):
    mv.value += 1  # expect: lost-update


class Tally:
    def __init__(self):
        self.count = Value("i", 0)

    def bump(self):
        self.count.value += 1  # expect: lost-update


def main():
    with mp.Pool(4) as pool:
        pool.map(add, range(10))
    counter = Value("i", 0)
    arr = mp.Array("i", 4)
    workers = [Process(target=add_twice, args=(counter, 1)) for _ in range(4)]
    for i in range(4):
        p = Process(target=add_to_array, args=(arr, 0))
        workers.append(p)
    tally = Tally()
    for _ in range(2):
        workers.append(Process(target=tally.bump))
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    with Manager() as manager:
        mv = manager.Value("i", 0)
        with ProcessPoolExecutor() as ex:
            for _ in range(4):
                ex.submit(add_to_manager_value, mv)
        print(mv.value)


if __name__ == "__main__":
    main()
