import time
import unittest
from concurrent.futures import ProcessPoolExecutor, as_completed


def slow_square(x):
    time.sleep(0.3 - 0.1 * x)
    return x * x


def test_squares_in_input_order():
    results = []
    with ProcessPoolExecutor(3) as ex:
        futures = [ex.submit(slow_square, x) for x in range(3)]
        for fut in as_completed(futures):
            results.append(fut.result())
    assert results == [0, 1, 4]


class SquaresTest(unittest.TestCase):
    def test_squares(self):
        with ProcessPoolExecutor(3) as ex:
            futures = [ex.submit(slow_square, x) for x in range(3)]
            results = [f.result() for f in as_completed(futures)]
        self.assertEqual(results, [0, 1, 4])


if __name__ == '__main__':
    unittest.main()
