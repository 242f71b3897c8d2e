# A class defined inside main() and used only in the parent.
import multiprocessing as mp


def square(n):
    return n * n


def main():
    class Report:
        def __init__(self, rows):
            self.rows = rows

        def show(self):
            for row in self.rows:
                print(row)

    with mp.Pool(2) as pool:
        Report(pool.map(square, range(3))).show()


if __name__ == "__main__":
    main()
