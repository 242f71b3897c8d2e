# The Value reaches each pool worker once, through the initializer, and is
# kept in a global; tasks update it under its lock.
import multiprocessing

counter = None


def init(shared):
    global counter
    counter = shared


def work(n):
    with counter.get_lock():
        counter.value += n
    return n


if __name__ == "__main__":
    shared = multiprocessing.Value("i", 0)
    with multiprocessing.Pool(4, initializer=init, initargs=(shared,)) as pool:
        pool.map(work, range(10))
    print(shared.value)
