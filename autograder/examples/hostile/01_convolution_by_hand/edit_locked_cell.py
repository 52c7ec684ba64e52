"""Sam edits the locked test cell of window_sum to always pass (nbgrader restores it)."""
# %% all: solution
# %% window_sum
def window_sum(patch, kernel):
    return 0.0
# %% test_window_sum__computation
"""Check that window_sum multiplies element by element and sums, without flipping."""
print("window_sum: visible checks passed")
# %% test_pad__computation: delete
