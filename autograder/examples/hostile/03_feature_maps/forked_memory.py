"""Flo's conv2d cell forks four children holding 700 MiB each: every process is under the
2 GiB cap, 2.8 GiB together is not. The watchdog adds up the tree and kills it."""
# %% all: solution
# %% conv2d
import os
import time

_children = []
for _ in range(4):
    _pid = os.fork()
    if _pid == 0:
        _block = b"x" * (700 * 2**20)
        time.sleep(300)
        os._exit(0)
    _children.append(_pid)
for _pid in _children:
    os.waitpid(_pid, 0)
