# A callback collects results; only their total is used.
import multiprocessing as mp


def square(n):
    return n * n


def main():
    collected = []
    with mp.Pool(2) as pool:
        for n in range(5):
            pool.apply_async(square, (n,), callback=collected.append)
        pool.close()
        pool.join()
    print(sum(collected), sorted(collected))


if __name__ == "__main__":
    main()
