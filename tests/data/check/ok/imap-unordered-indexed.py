# imap_unordered with the index travelling with each result.
import multiprocessing


def square(pair):
    i, n = pair
    return i, n * n


if __name__ == "__main__":
    data = [4, 2, 7]
    results = [None] * len(data)
    with multiprocessing.Pool() as pool:
        for i, r in pool.imap_unordered(square, enumerate(data)):
            results[i] = r
    print(list(zip(data, results)))
