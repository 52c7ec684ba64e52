"""Lu's correlate emits a warning on every call, and warnings are set to 'always'."""
# %% all: solution
# %% correlate
import warnings

warnings.simplefilter("always")


def correlate(image, kernel, mode="reflect", cval=0.0):
    for _ in range(2000):
        warnings.warn("this is fine", RuntimeWarning)
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel)
