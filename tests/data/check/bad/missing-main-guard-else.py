# The guard is there, but the work runs in its else branch and after it.
from concurrent.futures import ProcessPoolExecutor


def square(n):
    return n * n


def main():
    with ProcessPoolExecutor() as ex:
        return list(ex.map(square, range(4)))


if __name__ == "__main__":
    print("main")
else:
    print(main())  # expect: missing-main-guard

try:
    main()  # expect: missing-main-guard
finally:
    print("done")
