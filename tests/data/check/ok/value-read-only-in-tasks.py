# Workers only read a Value inherited by fork; the parent writes it.
import multiprocessing as mp

limit = mp.Value("i", 10)


def below(n):
    return n < limit.value


if __name__ == "__main__":
    limit.value = 5
    with mp.Pool(2) as pool:
        print(pool.map(below, range(8)))
