# as_completed gathering (index, result) pairs, sorted before use.
from concurrent.futures import ProcessPoolExecutor, as_completed


def square(n):
    return n * n


def main():
    inputs = [5, 4, 3]
    with ProcessPoolExecutor() as ex:
        futures = {ex.submit(square, n): i for i, n in enumerate(inputs)}
        pairs = []
        for f in as_completed(futures):
            pairs.append((futures[f], f.result()))
    pairs.sort()
    for i, n in enumerate(inputs):
        print(n, pairs[i][1])


if __name__ == "__main__":
    main()
