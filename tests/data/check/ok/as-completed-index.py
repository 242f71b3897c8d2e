# as_completed with each future mapped back to its input.
from concurrent.futures import ProcessPoolExecutor, as_completed


def square(n):
    return n * n


if __name__ == "__main__":
    inputs = [3, 1, 2]
    with ProcessPoolExecutor() as ex:
        future_to_input = {ex.submit(square, n): n for n in inputs}
        results = {}
        for future in as_completed(future_to_input):
            results[future_to_input[future]] = future.result()
    for n in inputs:
        print(n, results[n])
