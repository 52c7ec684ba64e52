"""Hal's window_sum cell never ends: an infinite loop at the top level of the cell.
The cell timeout stops it; the rest of the notebook is still graded."""
# %% all: solution
# %% window_sum
while True:
    pass
