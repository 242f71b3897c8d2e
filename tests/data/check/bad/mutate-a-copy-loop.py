# A flag cleared on a copy found by iterating a list proxy; the append
# below writes back a new object of the same name, not the copy.
from multiprocessing import Manager


class Cluster:
    def __init__(self):
        self.is_available = True


class ClusterPool:
    def __init__(self, manager):
        self.clusters = manager.list()

    def take(self):
        for cluster in self.clusters:
            if cluster.is_available:
                cluster.is_available = False  # expect: mutate-a-copy
                return cluster
        cluster = Cluster()
        self.clusters.append(cluster)
        return cluster


if __name__ == "__main__":
    with Manager() as manager:
        pool = ClusterPool(manager)
        pool.take()
