"""Fay's gaussian_kernel cell forks children until the machine gives up: the process cap
(a watchdog, and RLIMIT_NPROC for the kernel's own uid when grading runs as root) kills
the kernel's whole process tree; the rest of the notebook scores nothing."""
# %% all: solution
# %% gaussian_kernel
import os
import time

for _ in range(300):
    try:
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
    except OSError:
        break
time.sleep(300)
