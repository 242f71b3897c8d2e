"""local-function, broken, with a lambda bound to a module-level name.

C demo: demos/local-function.c (mpshare run local-function).
A variant of local-function-broken.py; the fix is the same
(local-function-fixed.py: a module-level def).

SQUARE is a module-level name, but the function's own name is
'<lambda>', and that is the one pickle looks up: the same refusal.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os

SQUARE = lambda n: n * n  # noqa: E731


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        print(f"square: {executor.submit(SQUARE, 3).result()}")


if __name__ == "__main__":
    main()
