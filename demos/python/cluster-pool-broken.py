"""cluster-pool, broken: a ClusterPool that owns its manager.

C demo: demos/cluster-pool.c (mpshare run cluster-pool).

The article's sample reuses "clusters" through a manager list (pop one,
run the job, append it back). Its author first let the ClusterPool make
its own manager, so that leaving the pool's `with` block would shut the
manager down. The pool is an argument of every job, and so is its
manager then: TypeError "Pickling an AuthenticationString object is
disallowed for security reasons". This broken half is that first
design, with the one job of the article's snippet; the fixed half is
the article's sample.
"""
import concurrent.futures as cf
import multiprocessing as mp
import os
import random
import string
import time


class Cluster:
    def __init__(self):
        self.name = "".join(random.choices(string.ascii_lowercase, k=5))

    def submit_job(self, num):
        time.sleep(0.05)  # the real job would run on the cluster here
        return num * num


class ClusterPool:
    def __init__(self, ctx):
        self.manager = ctx.Manager()
        self.clusters = self.manager.list()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        self.manager.shutdown()

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
    return result


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ClusterPool(ctx) as cluster_pool:
        with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as executor:
            future = executor.submit(parallel_func, 3, cluster_pool)
            print(f"square: {future.result()}")


if __name__ == "__main__":
    main()
