# Each process writes only its own slot of an array without a lock.
import multiprocessing as mp


def square(arr, i):
    arr[i] = i * i


if __name__ == "__main__":
    arr = mp.Array("i", 6, lock=False)
    procs = [mp.Process(target=square, args=(arr, i)) for i in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(list(arr))
