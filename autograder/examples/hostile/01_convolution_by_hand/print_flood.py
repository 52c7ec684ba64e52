"""Kit debugs with a print in a hot loop: millions of lines of output."""
# %% all: solution
# %% window_sum
def window_sum(patch, kernel):
    patch = np.asarray(patch, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if patch.ndim != 2 or patch.shape != kernel.shape:
        raise ValueError("patch and kernel must have the same 2-D shape")
    return float((patch * kernel).sum())


for _i in range(3_000_000):
    print("debugging", _i)
