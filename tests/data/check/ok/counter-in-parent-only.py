# The parent counts results itself: no shared state to race on.
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import Value


def square(n):
    return n * n


def main():
    done = Value("i", 0)
    with ProcessPoolExecutor() as ex:
        for f in as_completed([ex.submit(square, n) for n in range(5)]):
            f.result()
            done.value += 1
    print(done.value)


if __name__ == "__main__":
    main()
