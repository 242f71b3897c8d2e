"""unserializable-handle, fixed: keep the recipe, open where it is used.

C demo: demos/unserializable-handle.c (mpshare run unserializable-handle).

The Cluster keeps the path of its credentials, a plain string that
pickles, and opens the file in the process that needs it: here a worker
reads the project name through the copy it gets from the list.
"""
import multiprocessing as mp
import os
import sys
import tempfile


class Cluster:
    def __init__(self, name, credentials_path):
        self.name = name
        self.credentials_path = credentials_path

    def project(self):
        with open(self.credentials_path) as credentials:
            return credentials.readline().strip()


def read_project(clusters, projects):
    projects.append(clusters[0].project())


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "credentials")
        with open(path, "w") as f:
            f.write("project-a\n")
        with ctx.Manager() as manager:
            clusters = manager.list([Cluster("abcde", path)])
            projects = manager.list()
            worker = ctx.Process(target=read_project,
                                 args=(clusters, projects))
            worker.start()
            worker.join()
            found = list(projects)
    if found != ["project-a"]:
        sys.exit(f"the worker read {found}, expected ['project-a']")
    print(f"project: {found[0]}")


if __name__ == "__main__":
    main()
