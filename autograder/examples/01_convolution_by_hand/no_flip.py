"""Eli loops over pixels, keeps uint8 images as they are, and forgets that convolution
flips the kernel."""
# %% all: solution
# %% window_sum
def window_sum(patch, kernel):
    patch, kernel = np.asarray(patch), np.asarray(kernel)
    if patch.shape != kernel.shape or patch.ndim != 2:
        raise ValueError("patch and kernel must have the same 2-D shape")
    return float((patch * kernel).sum())  # uint8 * uint8 wraps around at 256
# %% convolve
def convolve(image, kernel, mode="reflect", cval=0.0):
    return correlate(image, kernel, mode=mode, cval=cval)  # no flip
