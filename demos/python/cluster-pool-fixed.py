"""cluster-pool, fixed: the article's sample, manager made outside the pool.

C demo: demos/cluster-pool.c (mpshare run cluster-pool).

The manager is made in main() and the ClusterPool keeps only a list
proxy, which travels to the workers. A job pops a cluster (or makes
one), runs, and appends it back: a popped cluster is in no one else's
hands, so 9 jobs on 3 workers never need more than 3 clusters.
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

    def submit_job(self, num):
        time.sleep(0.05)  # the real job would run on the cluster here
        return num * num


class ClusterPool:
    def __init__(self, manager):
        self.clusters = manager.list()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        self.clusters[:] = []

    def pop_or_create_cluster(self):
        try:
            return self.clusters.pop()
        except IndexError:
            return Cluster()

    def append_cluster(self, cluster):
        self.clusters.append(cluster)


def parallel_func(num, cluster_pool):
    cluster = cluster_pool.pop_or_create_cluster()
    result = cluster.submit_job(num)
    cluster_pool.append_cluster(cluster)
    return result, cluster.name


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        with ClusterPool(manager) as cluster_pool:
            with cf.ProcessPoolExecutor(max_workers=3,
                                        mp_context=ctx) as executor:
                futures = [executor.submit(parallel_func, n, cluster_pool)
                           for n in range(9)]
                results = [f.result() for f in futures]
    squares = [square for square, _ in results]
    names = {name for _, name in results}
    if squares != [n * n for n in range(9)] or len(names) > 3:
        sys.exit(f"squares {squares} on {len(names)} clusters, expected "
                 f"the 9 squares on at most 3 clusters")
    print(f"squares: {squares}, clusters made: {len(names)}")


if __name__ == "__main__":
    main()
