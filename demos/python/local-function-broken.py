"""local-function, broken: a function defined inside main() sent to a pool.

C demo: demos/local-function.c (mpshare run local-function).

A task travels to a worker pickled by its module-level name. square()
lives inside main(), so it has none: AttributeError "Can't pickle local
object 'main.<locals>.square'" (3.13: "Can't get local object"), under
every start method. A lambda fails the same way.
"""
import multiprocessing as mp
import os


def main():
    def square(n):
        return n * n

    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Pool(processes=2) as pool:
        print(f"squares: {pool.map(square, range(6))}")


if __name__ == "__main__":
    main()
