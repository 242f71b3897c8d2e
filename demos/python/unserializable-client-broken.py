"""unserializable-handle, broken, with a database connection in the object.

C demo: demos/unserializable-handle.c (mpshare run unserializable-handle).
A variant of unserializable-handle-broken.py; the fix is the same
(unserializable-handle-fixed.py: keep the recipe, connect where used).

A Cluster keeps an open sqlite3 connection, as the article's kept cloud
clients: TypeError "cannot pickle 'sqlite3.Connection' object".
"""
import multiprocessing as mp
import os
import sqlite3


class Cluster:
    def __init__(self, name):
        self.name = name
        self.client = sqlite3.connect(":memory:")  # a live handle


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        clusters = manager.list()
        cluster = Cluster("abcde")
        try:
            clusters.append(cluster)
        finally:
            cluster.client.close()
        print(f"stored: {clusters[0].name}")


if __name__ == "__main__":
    main()
