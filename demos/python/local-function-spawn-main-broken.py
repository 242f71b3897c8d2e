"""local-function, broken, with the task defined under the main guard.

C demo: demos/local-function.c (mpshare run local-function).
A variant of local-function-broken.py; the fix is the same
(local-function-fixed.py: a module-level def).

square() is a module-level name here, but only in the parent: a spawned
worker imports this script as __mp_main__, skips the guarded block, and
cannot find the function it is sent: AttributeError "Can't get attribute
'square' on <module '__mp_main__'>", and the pool breaks. (Under fork
the worker is a copy of the parent and finds it.)
"""
import concurrent.futures as cf
import multiprocessing as mp
import os

if __name__ == "__main__":
    def square(n):
        return n * n

    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as executor:
        print(f"square: {executor.submit(square, 3).result()}")
