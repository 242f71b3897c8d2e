# Pop, change, append: the change reaches the manager with the append.
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager


def use(pool_of_clusters, job):
    cluster = pool_of_clusters.pop()
    cluster["jobs"] += 1
    pool_of_clusters.append(cluster)
    return job


def main():
    with Manager() as manager:
        clusters = manager.list([{"name": "a", "jobs": 0}])
        with ProcessPoolExecutor(max_workers=1) as ex:
            list(ex.map(use, [clusters] * 3, range(3)))
        print(list(clusters))


if __name__ == "__main__":
    main()
