# A pool made at the top of the module: every spawned worker imports this
# file again and tries to make the pool again.
import multiprocessing


def square(n):
    return n * n


pool = multiprocessing.Pool(4)  # expect: missing-main-guard
print(pool.map(square, range(10)))
pool.close()
pool.join()
