# functools.partial carrying plain values to pool tasks.
from concurrent.futures import ProcessPoolExecutor
from functools import partial


def scale(factor, n):
    return factor * n


if __name__ == "__main__":
    with ProcessPoolExecutor() as ex:
        print(list(ex.map(partial(scale, 3), range(5))))
        print(ex.submit(partial(scale, 2), 4).result())
