"""missing-main-guard, broken, with set_start_method() at the top.

C demo: demos/missing-main-guard.c (mpshare run missing-main-guard).
A variant of missing-main-guard-broken.py; the fix is the same
(missing-main-guard-fixed.py: everything under the guard).

The child imports the script again and runs set_start_method() a second
time in a process whose context is already set: RuntimeError "context
has already been set". The parent sees its child fail and says so.
"""
import multiprocessing as mp
import os
import sys

mp.set_start_method(os.environ.get("MP_START_METHOD") or "spawn")


def square(n):
    print(f"square: {n * n}")


print(f"loading the data in process {os.getpid()}", flush=True)
worker = mp.Process(target=square, args=(3,))
worker.start()
worker.join()
if worker.exitcode != 0:
    sys.exit(f"the worker exited with {worker.exitcode}")
