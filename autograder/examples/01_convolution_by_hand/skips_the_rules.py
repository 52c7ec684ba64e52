"""Fay's maths is right everywhere, but she skipped the rules the text states: she never
converts to float64 (uint8 images wrap around, float32 stays float32) and never checks her
arguments. She keeps every computation part and loses the dtypes and bad-input parts."""
# %% all: solution
# %% window_sum
def window_sum(patch, kernel):
    return (patch * kernel).sum()
# %% correlate_valid
def correlate_valid(image, kernel, stride=1):
    kh, kw = kernel.shape
    rows = range(0, image.shape[0] - kh + 1, stride)
    cols = range(0, image.shape[1] - kw + 1, stride)
    return np.array([[(image[r:r + kh, c:c + kw] * kernel).sum() for c in cols] for r in rows])
# %% pad
def pad(image, pad_width, mode="reflect", cval=0.0):
    if np.ndim(pad_width) == 0:
        pad_width = ((pad_width, pad_width), (pad_width, pad_width))
    (top, bottom), (left, right) = pad_width
    h, w = image.shape
    if mode == "constant":
        out = np.full((h + top + bottom, w + left + right), cval, dtype=image.dtype)
        out[top:top + h, left:left + w] = image
        return out

    def index(n, before, after):
        p = np.arange(-before, n + after)
        if mode == "wrap":
            return p % n
        if mode == "nearest":
            return np.clip(p, 0, n - 1)
        if mode == "reflect":
            q = p % (2 * n)
            return np.where(q < n, q, 2 * n - 1 - q)
        q = p % (2 * n - 2) if n > 1 else 0 * p
        return np.where(q < n, q, 2 * n - 2 - q)

    return image[np.ix_(index(h, top, bottom), index(w, left, right))]
# %% correlate
def correlate(image, kernel, mode="reflect", cval=0.0):
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel)
# %% convolve
def convolve(image, kernel, mode="reflect", cval=0.0):
    kh, kw = kernel.shape
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel[::-1, ::-1])
