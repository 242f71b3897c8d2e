"""global-not-inherited, fixed: the state travels to the workers as data.

C demo: demos/global-not-inherited.c (mpshare run global-not-inherited).

The pool's initializer runs once in each worker with the value main()
loaded, under every start method. (Passing it with each task, or setting
it at import time, works too.)
"""
import multiprocessing as mp
import os
import sys

SCALE = 1  # the module's value; main() sets the real one


def set_scale(scale):
    global SCALE
    SCALE = scale


def scaled(n):
    return n * SCALE


def main():
    scale = 10  # stands for a config file read at run time
    set_scale(scale)
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Pool(2, initializer=set_scale, initargs=(scale,)) as pool:
        results = pool.map(scaled, range(6))
    want = [n * 10 for n in range(6)]
    if results != want:
        wrong = sum(a != b for a, b in zip(results, want))
        sys.exit(f"results are {results}, expected {want}: {wrong} of 6 "
                 f"wrong, the workers saw the module's initial SCALE, not "
                 f"the one main() set")
    print(f"results: {results}")


if __name__ == "__main__":
    main()
