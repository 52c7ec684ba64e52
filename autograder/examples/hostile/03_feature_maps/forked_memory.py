"""Flo's conv2d cell forks ten children holding 300 MiB each: every process is well under
the 2 GiB cap, 3 GiB together is not. The watchdog adds up the tree and kills it."""
# %% all: solution
# %% conv2d
import os
import time

_children = []
for _ in range(10):
    _pid = os.fork()
    if _pid == 0:
        try:
            _block = b"x" * (300 * 2**20)
            time.sleep(300)
        finally:
            os._exit(0)
    _children.append(_pid)
for _pid in _children:
    os.waitpid(_pid, 0)
