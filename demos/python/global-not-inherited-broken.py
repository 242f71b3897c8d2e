"""global-not-inherited, broken: module state set in main() at run time.

C demo: demos/global-not-inherited.c (mpshare run global-not-inherited).

main() loads the config (here: SCALE = 10) into a module-level variable,
and the pool's tasks read it. Under fork each worker is a copy of the
parent after main() ran: it sees 10. Under spawn and forkserver (the
default on Linux from Python 3.14) a worker imports the module afresh:
it sees the value the module starts with, 1, and nothing fails. The
program checks its results and exits 1 when they are wrong.
"""
import multiprocessing as mp
import os
import sys

SCALE = 1  # the module's value; main() sets the real one


def scaled(n):
    return n * SCALE


def main():
    global SCALE
    SCALE = 10  # stands for a config file read at run time
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Pool(2) as pool:
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
