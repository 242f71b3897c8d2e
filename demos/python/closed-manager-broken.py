"""closed-manager, broken: reading a manager list after the `with` block.

C demo: demos/closed-manager.c (mpshare run closed-manager).

The workers fill a list that lives in the manager's server process. The
`with` block ends, the server shuts down, and only then does the parent
read the list through its proxy: AttributeError "'ForkAwareLocal' object
has no attribute 'connection'", then the real cause, the server's socket
is gone.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os


def record(results, n):
    results.append(n * n)


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        results = manager.list()
        with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
            for n in range(6):
                executor.submit(record, results, n)
    print(f"squares: {sorted(results)}")  # the manager is gone here


if __name__ == "__main__":
    main()
