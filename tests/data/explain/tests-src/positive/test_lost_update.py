import multiprocessing as mp
import unittest


def test_four_processes_add_up():
    mp.set_start_method('fork', force=True)
    total = mp.Value('i', 0)

    def add():
        for _ in range(20000):
            total.value += 1

    procs = [mp.Process(target=add) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert total.value == 80000


def add_many(total, n):
    for _ in range(n):
        total.value += 1


class TotalTest(unittest.TestCase):
    def test_total(self):
        total = mp.Value('i', 0)
        procs = [mp.Process(target=add_many, args=(total, 20000)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        self.assertEqual(total.value, 80000)


if __name__ == '__main__':
    unittest.main()
