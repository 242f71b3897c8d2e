# A nested function called inside the task, never sent anywhere.
import multiprocessing


def task(n):
    def helper(x):
        return x + 1

    return helper(n) * 2


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        print(pool.map(task, range(4)))
