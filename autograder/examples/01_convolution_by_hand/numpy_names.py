"""Cleo took the mode names from numpy.pad's documentation: her 'reflect' is ndimage's
'mirror' and her 'mirror' is ndimage's 'reflect'. Everything built on pad inherits it."""
# %% all: solution
# %% pad
def pad(image, pad_width, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    if np.ndim(pad_width) == 0:
        pad_width = ((pad_width, pad_width), (pad_width, pad_width))
    (top, bottom), (left, right) = pad_width
    if min(top, bottom, left, right) < 0:
        raise ValueError("negative pad width")
    h, w = image.shape
    if mode == "constant":
        out = np.full((h + top + bottom, w + left + right), float(cval))
        out[top:top + h, left:left + w] = image
        return out

    def index(n, before, after):
        p = np.arange(-before, n + after)
        if mode == "wrap":
            return p % n
        if mode == "nearest":
            return np.clip(p, 0, n - 1)
        if mode == "mirror":  # swapped with reflect: numpy.pad's names
            q = p % (2 * n)
            return np.where(q < n, q, 2 * n - 1 - q)
        if mode == "reflect":
            q = p % (2 * n - 2) if n > 1 else p * 0
            return np.where(q < n, q, 2 * n - 2 - q)
        raise ValueError(f"unknown mode {mode!r}")

    return image[np.ix_(index(h, top, bottom), index(w, left, right))]
