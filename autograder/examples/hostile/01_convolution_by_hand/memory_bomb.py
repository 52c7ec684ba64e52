"""Jo asks for a 50 GB array in correlate_valid: safe only because the memory cap holds."""
# %% all: solution
# %% correlate_valid
_ballast = np.ones(50 * 2**30 // 8)
