"""manager-as-argument, broken, with a multiprocessing Pool.

C demo: demos/manager-as-argument.c (mpshare run manager-as-argument).
A variant of manager-as-argument-broken.py; the fix is the same
(manager-as-argument-fixed.py: pass a proxy, not the manager).

A Pool pickles its tasks as an executor does, and the manager's auth
key refuses: TypeError "Pickling an AuthenticationString object is
disallowed for security reasons".
"""
import multiprocessing as mp
import os


def count_clusters(manager):
    return len(manager.list())


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        with ctx.Pool(processes=2) as pool:
            print(f"clusters: {pool.apply(count_clusters, (manager,))}")


if __name__ == "__main__":
    main()
