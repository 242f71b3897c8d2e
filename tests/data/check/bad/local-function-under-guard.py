# A task defined under the main guard: a spawned worker imports the file
# as __mp_main__, skips the guarded block, and cannot find it.
from concurrent.futures import ProcessPoolExecutor

if __name__ == "__main__":
    def square(n):
        return n * n

    with ProcessPoolExecutor(max_workers=1) as ex:
        print(ex.submit(square, 3).result())  # expect: local-function
