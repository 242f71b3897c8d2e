# Proxies travel to pool tasks; the manager stays in the parent.
import multiprocessing as mp


def record(results, n):
    results.append(n * n)


if __name__ == "__main__":
    with mp.Manager() as manager:
        results = manager.list()
        with mp.Pool(3) as pool:
            pool.starmap(record, [(results, n) for n in range(6)])
        print(sorted(results))
