# An element read from a manager list, changed, and written back in place
# under a manager lock.
from multiprocessing import Manager, Process


class Cluster:
    def __init__(self, name):
        self.name = name
        self.available = True


def take(clusters, lock, i):
    with lock:
        cluster = clusters[i]
        cluster.available = False
        clusters[i] = cluster


if __name__ == "__main__":
    with Manager() as manager:
        clusters = manager.list([Cluster("a"), Cluster("b")])
        lock = manager.Lock()
        procs = [Process(target=take, args=(clusters, lock, i)) for i in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        print([c.available for c in clusters])
