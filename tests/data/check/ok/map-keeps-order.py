# map returns results in the order of its inputs: zip is right here.
import multiprocessing as mp


def square(n):
    return n * n


if __name__ == "__main__":
    inputs = [3, 1, 2]
    with mp.Pool(3) as pool:
        squares = pool.map(square, inputs)
        lazy = list(pool.imap(square, inputs))
    for n, s, t in zip(inputs, squares, lazy):
        print(n, s, t)
