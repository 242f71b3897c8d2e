# Results in completion order are fine when only their sum matters.
from concurrent.futures import ProcessPoolExecutor, as_completed


def square(n):
    return n * n


if __name__ == "__main__":
    with ProcessPoolExecutor() as ex:
        futures = [ex.submit(square, n) for n in range(10)]
        results = []
        for f in as_completed(futures):
            results.append(f.result())
    print(sum(results), max(results), len(results), results[0])
