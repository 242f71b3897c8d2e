import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor


def count(shared, n):
    for _ in range(n):
        shared.value += 1


def test_manager_value_counts_every_task():
    with mp.Manager() as manager:
        shared = manager.Value('i', 0)
        with ProcessPoolExecutor(4) as ex:
            for _ in range(4):
                ex.submit(count, shared, 500)
        assert shared.value == 2000
