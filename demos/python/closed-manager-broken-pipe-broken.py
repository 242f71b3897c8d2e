"""closed-manager, broken, with a proxy used before the manager closed.

C demo: demos/closed-manager.c (mpshare run closed-manager).
A variant of closed-manager-broken.py; the fix is the same
(closed-manager-fixed.py: copy the results out inside the block).

The parent reads the list once inside the `with` block, so its proxy
keeps an open connection to the server. After the block the server is
gone and the next read fails on that dead connection: an OSError
(BrokenPipeError or EOFError, depending on timing), not the
'ForkAwareLocal' message.
"""
import multiprocessing as mp
import os


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        clusters = manager.list(["abcde", "fghij"])
        print(f"{len(clusters)} clusters")
    print(f"first cluster: {clusters[0]}")  # the manager is gone here


if __name__ == "__main__":
    main()
