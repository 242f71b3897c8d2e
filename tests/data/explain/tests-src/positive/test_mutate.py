import multiprocessing as mp
import unittest


class Cluster:
    def __init__(self, name):
        self.name = name
        self.available = True


def test_cluster_marked_busy():
    with mp.Manager() as manager:
        clusters = manager.list([Cluster('a'), Cluster('b')])
        clusters[0].available = False
        assert clusters[0].available is False


def test_counts_in_manager_dict_items():
    with mp.Manager() as manager:
        rows = manager.list([{'n': 1}])
        rows[0]['n'] += 1
        assert rows[0]['n'] == 2


class ClusterTest(unittest.TestCase):
    def test_busy(self):
        with mp.Manager() as manager:
            clusters = manager.list([Cluster('a')])
            clusters[0].available = False
            self.assertFalse(clusters[0].available)


if __name__ == '__main__':
    unittest.main()
