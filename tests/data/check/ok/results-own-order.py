# Results in completion order, walked in their own order: each is printed
# with its own position, not matched to an input.
from concurrent.futures import ProcessPoolExecutor, as_completed


def square(n):
    return n * n


if __name__ == "__main__":
    with ProcessPoolExecutor() as ex:
        results = []
        for f in as_completed([ex.submit(square, n) for n in range(4)]):
            results.append(f.result())
    for i in range(len(results)):
        print("result number", i, "to arrive:", results[i])
