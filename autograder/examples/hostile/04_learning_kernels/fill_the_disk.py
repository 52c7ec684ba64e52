"""Dee's fit_kernel cell writes a gigabyte wherever it can: every folder it can name is
read-only, /tmp and the notebook's folder are bounded tmpfs, and the one host folder it
can write to (its connection file's) is watched: the kernel is killed and the files
removed; nothing stays on the host's disk."""
# %% all: solution
# %% fit_kernel
import os
import sys

_chunk = b"x" * (64 * 2**20)
_places = [os.path.dirname(sys.argv[sys.argv.index("-f") + 1]) if "-f" in sys.argv else "/tmp",
           "../../..", "/var/tmp", "/tmp", "."]
for _place in _places:
    try:
        with open(os.path.join(_place, "ballast.bin"), "wb") as _f:
            for _ in range(16):
                _f.write(_chunk)
                _f.flush()
    except OSError:
        pass
