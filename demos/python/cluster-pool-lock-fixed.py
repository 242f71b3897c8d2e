"""cluster-pool-lock, fixed: change the flag, then write the cluster back.

C demo: demos/cluster-pool-lock.c (mpshare run cluster-pool-lock).

The article's lock version: under a manager Lock a job finds an
available cluster, clears its flag and assigns the cluster back to its
place in the list; when done it sets the flag and assigns it back again
(clusters compare by name, so index() finds it). Released clusters are
reused: at most 3 for 9 jobs on 3 workers.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import random
import string
import sys
import time


class Cluster:
    def __init__(self):
        self.name = "".join(random.choices(string.ascii_lowercase, k=5))
        self.is_available = False

    def __eq__(self, other):
        return self.name == other.name

    def submit_job(self, num):
        time.sleep(0.05)  # the real job would run on the cluster here
        return num * num


class ClusterPool:
    def __init__(self, manager):
        self.clusters = manager.list()
        self.lock = manager.Lock()

    def get_or_create_cluster(self):
        with self.lock:
            for i, cluster in enumerate(self.clusters):
                if cluster.is_available:
                    cluster.is_available = False
                    self.clusters[i] = cluster  # write the change back
                    return cluster
            cluster = Cluster()
            self.clusters.append(cluster)
            return cluster

    def release_cluster(self, cluster):
        cluster.is_available = True
        with self.lock:
            self.clusters[self.clusters.index(cluster)] = cluster


def parallel_func(num, cluster_pool):
    cluster = cluster_pool.get_or_create_cluster()
    result = cluster.submit_job(num)
    cluster_pool.release_cluster(cluster)
    return result


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        cluster_pool = ClusterPool(manager)
        with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
            futures = [executor.submit(parallel_func, n, cluster_pool)
                       for n in range(9)]
            squares = [f.result() for f in futures]
        made = len(cluster_pool.clusters)
    print(f"squares: {squares}")
    if squares != [n * n for n in range(9)] or made > 3:
        sys.exit(f"9 jobs on 3 workers made {made} clusters, expected at "
                 f"most 3")
    print(f"clusters made: {made}")


if __name__ == "__main__":
    main()
