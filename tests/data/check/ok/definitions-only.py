# A module of task functions, imported by others: nothing starts here.
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor


def square(n):
    return n * n


def run(numbers):
    with ProcessPoolExecutor() as ex:
        return list(ex.map(square, numbers))


def run_pool(numbers):
    with mp.Pool() as pool:
        return pool.map(square, numbers)
