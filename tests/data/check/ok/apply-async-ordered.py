# apply_async results kept in submission order and read with get().
from multiprocessing import Pool


def square(n):
    return n * n


if __name__ == "__main__":
    inputs = [1, 2, 3]
    with Pool(2) as pool:
        pending = [pool.apply_async(square, (n,)) for n in inputs]
        results = [p.get() for p in pending]
    for i, n in enumerate(inputs):
        print(n, results[i])
