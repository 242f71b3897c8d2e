# Results gathered in completion order, then matched to inputs by position.
import concurrent.futures
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed


def square(n):
    return n * n


def main():
    inputs = [3, 1, 2]
    with ProcessPoolExecutor() as ex:
        futures = [ex.submit(square, n) for n in inputs]
        results = []
        for f in as_completed(futures):
            results.append(f.result())
        for i, n in enumerate(inputs):
            print(n, results[i])  # expect: as-completed-order
        done = [f.result() for f in concurrent.futures.as_completed(futures)]
        table = dict(zip(inputs, done))  # expect: as-completed-order
        print(table)
        late = [f.result() for f in as_completed(futures)]
        if late != [n * n for n in inputs]:  # expect: as-completed-order
            print("not in input order")
    with mp.Pool(3) as pool:
        squares = list(pool.imap_unordered(square, inputs))
        for n, s in zip(inputs, squares):  # expect: as-completed-order
            print(n, s)
        got = []
        for r in pool.imap_unordered(square, inputs):
            got.append(r)
        print(got[inputs.index(3)])  # expect: as-completed-order
        collected = []
        for n in inputs:
            pool.apply_async(square, (n,), callback=collected.append)
        pool.close()
        pool.join()
        print([(inputs[i], collected[i]) for i in range(3)])  # expect: as-completed-order


if __name__ == "__main__":
    main()
