"""Ivy calls os._exit(0) in her pad cell, which kills the kernel."""
# %% all: solution
# %% pad
import os

os._exit(0)
