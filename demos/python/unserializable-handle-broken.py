"""unserializable-handle, broken: an open file inside a manager's object.

C demo: demos/unserializable-handle.c (mpshare run unserializable-handle).

A Cluster keeps its open credentials file. Storing it in a manager list
pickles it, and an open file cannot be pickled: TypeError "cannot pickle
'_io.TextIOWrapper' object". (The article met the same with cloud client
objects: "cannot pickle 'CompiledFFI' object".)
"""
import multiprocessing as mp
import os
import tempfile


class Cluster:
    def __init__(self, name, credentials_path):
        self.name = name
        self.credentials = open(credentials_path)  # a live OS handle

    def project(self):
        return self.credentials.readline().strip()


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "credentials")
        with open(path, "w") as f:
            f.write("project-a\n")
        with ctx.Manager() as manager:
            clusters = manager.list()
            cluster = Cluster("abcde", path)
            try:
                clusters.append(cluster)
            finally:
                cluster.credentials.close()
            print(f"stored: {clusters[0].name}")


if __name__ == "__main__":
    main()
