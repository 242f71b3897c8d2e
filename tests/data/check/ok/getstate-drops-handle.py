# A class holding a file, pickled without it: __getstate__ drops the
# handle and __setstate__ reopens it.
from multiprocessing import Manager


class Source:
    def __init__(self, path):
        self.path = path
        self.stream = open(path)

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.path = state["path"]
        self.stream = open(self.path)


if __name__ == "__main__":
    with Manager() as manager:
        sources = manager.list()
        sources.append(Source(__file__))
        print(len(sources))
