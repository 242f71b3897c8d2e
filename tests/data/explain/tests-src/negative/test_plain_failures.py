import enum
import threading
import unittest


class Color(enum.Enum):
    RED = 1


def sort_desc(xs):
    return sorted(xs)


def count_words(text):
    return len(text.split(' '))


def test_sorted_descending():
    assert sort_desc([1, 3, 2]) == [3, 2, 1]


def test_word_count():
    assert count_words('a  b') == 2


def test_settings_copy():
    settings = {'debug': False}
    local = dict(settings)
    local['debug'] = True
    assert settings['debug'] is True


def test_enum_value():
    assert Color.RED.value == 2


def test_thread_total():
    totals = []
    threads = [threading.Thread(target=lambda: totals.append(1)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(totals) == 4


class PlainTest(unittest.TestCase):
    def test_order(self):
        self.assertEqual(sort_desc([2, 1, 3]), [3, 2, 1])

    def test_value(self):
        self.assertEqual(Color.RED.value, 2)

    def test_items_copy(self):
        items = [[1], [2]]
        copy = [list(i) for i in items]
        copy[0][0] = 9
        self.assertEqual(items[0][0], 9)


if __name__ == '__main__':
    unittest.main()
