# A synchronized Value and Array passed in Process args: they travel by
# inheritance when the process starts, which is allowed.
import multiprocessing as mp


def fill(arr, total, i):
    arr[i] = i * i
    with total.get_lock():
        total.value = total.value + arr[i]


def main():
    arr = mp.Array("i", 5)
    total = mp.Value("i", 0)
    procs = []
    for i in range(5):
        p = mp.Process(target=fill, args=(arr, total, i))
        procs.append(p)
        p.start()
    for p in procs:
        p.join()
    print(list(arr), total.value)


if __name__ == "__main__":
    main()
