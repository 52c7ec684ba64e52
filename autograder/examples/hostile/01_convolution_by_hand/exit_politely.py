"""Pia calls sys.exit() in the middle of her notebook."""
# %% all: solution
# %% correlate_valid
import sys

sys.exit("done for today")
