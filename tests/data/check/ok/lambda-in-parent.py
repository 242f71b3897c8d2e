# Lambdas used only in the parent: sort keys, a filter. The task is a
# top-level function.
from concurrent.futures import ProcessPoolExecutor


def score(word):
    return len(set(word))


def main():
    words = ["pool", "lock", "manager", "queue"]
    with ProcessPoolExecutor() as ex:
        scores = list(ex.map(score, words))
    ranked = sorted(zip(words, scores), key=lambda pair: pair[1])
    long_ones = list(filter(lambda w: len(w) > 4, words))
    print(ranked, long_ones)


if __name__ == "__main__":
    main()
