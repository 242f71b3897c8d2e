"""missing-main-guard, broken: pool code at the top of the script.

C demo: demos/missing-main-guard.c (mpshare run missing-main-guard).

Under spawn and forkserver a worker starts by importing this script
again. Without `if __name__ == "__main__":` the import loads the data
once more and tries to start a pool of its own while the worker is still
bootstrapping: RuntimeError "An attempt has been made to start a new
process before the current process has finished its bootstrapping
phase", and the parent's pool breaks. (Under fork nothing is imported
again and the script works.)
"""
import concurrent.futures as cf
import multiprocessing as mp
import os


def square(n):
    return n * n


print(f"loading the data in process {os.getpid()}", flush=True)
numbers = list(range(6))
ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
    print(f"squares: {list(executor.map(square, numbers))}")
