# A parameter with the name of a shared global: the function updates its
# own plain argument, not the shared Value.
import multiprocessing as mp

count = mp.Value("i", 0)


class Tally:
    def __init__(self):
        self.value = 0


def tally(count):
    count.value += 1
    return count.value


if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(pool.map(tally, [Tally() for _ in range(3)]))
