"""local-function, broken, with a lambda.

C demo: demos/local-function.c (mpshare run local-function).
A variant of local-function-broken.py; the fix is the same
(local-function-fixed.py: a module-level def).

A lambda written inside main() is a local object too: AttributeError
"Can't pickle local object 'main.<locals>.<lambda>'".
"""
import multiprocessing as mp
import os


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Pool(processes=2) as pool:
        print(f"squares: {pool.map(lambda n: n * n, range(6))}")


if __name__ == "__main__":
    main()
