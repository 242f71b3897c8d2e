# Values made without a lock: updated by several processes, or asked for
# the lock they do not have.
import multiprocessing as mp


def work(v, n):
    v.value += n  # expect: lock-false


def work_array(a):
    for i in range(len(a)):
        a[i] = a[i] * 2  # expect: lock-false


def locked(v):
    with v.get_lock():  # expect: lock-false
        pass


def main():
    v = mp.Value("i", 0, lock=False)
    a = mp.Array("d", [1.0, 2.0], lock=False)
    raw = mp.RawValue("i", 0)
    ps = [mp.Process(target=work, args=(v, i)) for i in range(3)]
    ps += [mp.Process(target=work_array, args=(a,)) for i in range(2)]
    ps.append(mp.Process(target=locked, args=(raw,)))
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    with raw:  # expect: lock-false
        print(raw.value)
    v.acquire()  # expect: lock-false


if __name__ == "__main__":
    main()
