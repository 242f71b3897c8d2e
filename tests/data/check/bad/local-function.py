# Tasks that cannot be pickled by name: lambdas, nested functions, methods
# of a class defined inside a function.
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

square = lambda n: n * n


def main():
    def cube(n):
        return n ** 3

    class Doubler:
        def double(self, n):
            return 2 * n

    d = Doubler()
    with ProcessPoolExecutor() as ex:
        list(ex.map(lambda n: n + 1, range(3)))  # expect: local-function
        ex.submit(cube, 2).result()  # expect: local-function
        ex.submit(d.double, 2).result()  # expect: local-function
    with mp.Pool() as pool:
        pool.map(square, range(3))  # expect: local-function
        pool.apply_async(func=cube, args=(1,)).get()  # expect: local-function
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=cube, args=(3,))  # expect: local-function
    p.start()
    p.join()


if __name__ == "__main__":
    main()
