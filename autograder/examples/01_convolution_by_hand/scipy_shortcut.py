"""Dev pasted SciPy into the by-hand functions, imported under another name at the top.
Correct numbers, but these functions must be written by hand: correlate and convolve lose
their computation part (and their bad-input part: SciPy raises RuntimeError for an unknown
mode)."""
# %% all: solution
# %% correlate
from scipy.ndimage import correlate as _c
from scipy.ndimage import convolve as _v


def correlate(image, kernel, mode="reflect", cval=0.0):
    return _c(np.asarray(image, float), np.asarray(kernel, float), mode=mode, cval=cval)
# %% convolve
def convolve(image, kernel, mode="reflect", cval=0.0):
    return _v(np.asarray(image, float), np.asarray(kernel, float), mode=mode, cval=cval)
