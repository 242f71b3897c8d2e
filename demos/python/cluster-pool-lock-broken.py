"""cluster-pool-lock, broken: the availability flag changed on a copy.

C demo: demos/cluster-pool-lock.c (mpshare run cluster-pool-lock).

The article's first design: clusters stay in the manager list, each
with an is_available flag that a job clears when it takes the cluster
and sets when it is done. The flag is changed on the copy the job read
and never written back, so the server never sees a cluster come free:
every job makes a new one, 9 clusters instead of at most 3. The
program counts them and exits 1.
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
            for cluster in self.clusters:
                if cluster.is_available:
                    cluster.is_available = False  # a copy: not written back
                    return cluster
            cluster = Cluster()
            self.clusters.append(cluster)
            return cluster

    def release_cluster(self, cluster):
        cluster.is_available = True  # a copy again


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
    if made > 3:
        sys.exit(f"9 jobs on 3 workers made {made} clusters, expected at "
                 f"most 3: setting is_available did not stick")
    print(f"clusters made: {made}")


if __name__ == "__main__":
    main()
