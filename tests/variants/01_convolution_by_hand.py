"""Tests of the tests for notebook 01: plausible wrong answers and different right ones.

Each section is graded as its own submission (the instructor's solutions with that one
cell replaced). A `wrong` one must lose that function's points, in each part named in
brackets, and keep every point of the parts named in `keeps[...]`; a `correct` one must
keep every point of the notebook. Each function has a student whose maths is right but
who skips the dtype and bad-input rules: they keep the computation part.
"""

# %% window_sum: wrong[computation]: flips the kernel
def window_sum(patch, kernel):
    patch, kernel = np.asarray(patch, float), np.asarray(kernel, float)
    if patch.shape != kernel.shape or patch.ndim != 2:
        raise ValueError("shapes differ")
    return float((patch * kernel[::-1, ::-1]).sum())

# %% window_sum: wrong[dtypes] keeps[computation, bad_input]: uint8 wrap-around
def window_sum(patch, kernel):
    patch, kernel = np.asarray(patch), np.asarray(kernel)
    if patch.shape != kernel.shape or patch.ndim != 2:
        raise ValueError("shapes differ")
    return float((patch * kernel).sum(dtype=patch.dtype))

# %% window_sum: wrong[bad_input] keeps[computation, dtypes]: no shape check, broadcasts
def window_sum(patch, kernel):
    return float((np.asarray(patch, float) * np.asarray(kernel, float)).sum())

# %% window_sum: wrong[computation] keeps[dtypes, bad_input]: calls scipy
def window_sum(patch, kernel):
    from scipy.signal import correlate2d
    patch, kernel = np.asarray(patch, float), np.asarray(kernel, float)
    if patch.shape != kernel.shape or patch.ndim != 2:
        raise ValueError("shapes differ")
    return float(correlate2d(patch, kernel, mode="valid")[0, 0])

# %% window_sum: correct: einsum
def window_sum(patch, kernel):
    patch, kernel = np.asarray(patch, np.float64), np.asarray(kernel, np.float64)
    if patch.ndim != 2 or patch.shape != kernel.shape:
        raise ValueError(f"shapes {patch.shape} and {kernel.shape} differ")
    return float(np.einsum("ij,ij->", patch, kernel))

# %% window_sum: correct: explicit loops
def window_sum(patch, kernel):
    if np.ndim(patch) != 2 or np.shape(patch) != np.shape(kernel):
        raise ValueError("patch and kernel must have the same 2-D shape")
    total = 0.0
    for i in range(len(patch)):
        for j in range(len(patch[0])):
            total += float(patch[i][j]) * float(kernel[i][j])
    return total

# %% correlate_valid: wrong[computation]: off-by-one output size
def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if stride < 1 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("bad arguments")
    kh, kw = kernel.shape
    rows = range(0, image.shape[0] - kh, stride)
    cols = range(0, image.shape[1] - kw, stride)
    return np.array([[window_sum(image[r:r + kh, c:c + kw], kernel) for c in cols] for r in rows])

# %% correlate_valid: wrong[computation]: stride ignored for columns
def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or stride < 1 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("bad arguments")
    kh, kw = kernel.shape
    out = np.array([[(image[r:r + kh, c:c + kw] * kernel).sum()
                     for c in range(image.shape[1] - kw + 1)]
                    for r in range(0, image.shape[0] - kh + 1, stride)])
    return out

# %% correlate_valid: wrong[computation]: convolution (flipped kernel)
def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)[::-1, ::-1]
    if image.ndim != 2 or stride < 1 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("bad arguments")
    kh, kw = kernel.shape
    return np.array([[(image[r:r + kh, c:c + kw] * kernel).sum()
                      for c in range(0, image.shape[1] - kw + 1, stride)]
                     for r in range(0, image.shape[0] - kh + 1, stride)])

# %% correlate_valid: wrong[dtypes] keeps[computation]: keeps the input dtype (uint8 wraps)
def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image), np.asarray(kernel)
    if image.ndim != 2 or stride < 1 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("bad arguments")
    kh, kw = kernel.shape
    out = np.zeros(((image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1), image.dtype)
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = (image[r * stride:r * stride + kh, c * stride:c * stride + kw] * kernel).sum()
    return out.astype(float)

# %% correlate_valid: correct: sliding_window_view and einsum
def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image, np.float64), np.asarray(kernel, np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    if stride < 1:
        raise ValueError("stride must be at least 1")
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("kernel larger than image")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("rcij,ij->rc", windows, kernel)

# %% correlate_valid: correct: per-pixel loops calling window_sum
def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image, np.float64), np.asarray(kernel, np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or stride < 1:
        raise ValueError("need 2-D image and kernel and stride >= 1")
    (h, w), (kh, kw) = image.shape, kernel.shape
    if kh > h or kw > w:
        raise ValueError("the kernel does not fit")
    out = np.empty(((h - kh) // stride + 1, (w - kw) // stride + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = window_sum(image[r * stride:r * stride + kh, c * stride:c * stride + kw], kernel)
    return out

# %% pad: wrong[computation]: numpy.pad's names (reflect and mirror swapped)
def pad(image, pad_width, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("bad arguments")
    if np.ndim(pad_width) == 0:
        pad_width = ((pad_width, pad_width), (pad_width, pad_width))
    (top, bottom), (left, right) = pad_width
    if min(top, bottom, left, right) < 0:
        raise ValueError("negative width")
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
        if mode == "mirror":
            q = p % (2 * n)
            return np.where(q < n, q, 2 * n - 1 - q)
        q = p % (2 * n - 2) if n > 1 else 0 * p
        return np.where(q < n, q, 2 * n - 2 - q)

    return image[np.ix_(index(h, top, bottom), index(w, left, right))]

# %% pad: wrong[computation] keeps[dtypes, bad_input]: calls numpy.pad
def pad(image, pad_width, mode="reflect", cval=0.0):
    names = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap",
             "constant": "constant"}
    if mode not in names or np.ndim(image) != 2 or np.min(pad_width) < 0:
        raise ValueError("bad arguments")
    kw = {"constant_values": cval} if mode == "constant" else {}
    return np.pad(np.asarray(image, float), pad_width, mode=names[mode], **kw)

# %% pad: wrong[computation]: wrap only works for widths up to the image size
def pad(image, pad_width, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("bad arguments")
    if np.ndim(pad_width) == 0:
        pad_width = ((pad_width, pad_width), (pad_width, pad_width))
    (top, bottom), (left, right) = pad_width
    if min(top, bottom, left, right) < 0:
        raise ValueError("negative width")
    h, w = image.shape
    if mode == "constant":
        out = np.full((h + top + bottom, w + left + right), float(cval))
        out[top:top + h, left:left + w] = image
        return out
    if mode == "wrap":
        rows = np.concatenate([image[h - top:], image, image[:bottom]]) if top else np.concatenate([image, image[:bottom]])
        return np.concatenate([rows[:, w - left:] if left else rows[:, :0], rows, rows[:, :right]], axis=1)

    def index(n, before, after):
        p = np.arange(-before, n + after)
        if mode == "nearest":
            return np.clip(p, 0, n - 1)
        if mode == "reflect":
            q = p % (2 * n)
            return np.where(q < n, q, 2 * n - 1 - q)
        q = p % (2 * n - 2) if n > 1 else 0 * p
        return np.where(q < n, q, 2 * n - 2 - q)

    return image[np.ix_(index(h, top, bottom), index(w, left, right))]

# %% pad: wrong[computation]: constant mode ignores cval
def pad(image, pad_width, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("bad arguments")
    if np.ndim(pad_width) == 0:
        pad_width = ((pad_width, pad_width), (pad_width, pad_width))
    (top, bottom), (left, right) = pad_width
    if min(top, bottom, left, right) < 0:
        raise ValueError("negative width")
    h, w = image.shape
    if mode == "constant":
        out = np.zeros((h + top + bottom, w + left + right))
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

# %% pad: correct: grows one pixel ring at a time with concatenate
def pad(image, pad_width, mode="reflect", cval=0.0):
    image = np.array(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError(f"unknown mode {mode!r}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (2, 2))
    if (widths < 0).any():
        raise ValueError("negative pad width")

    def pad_axis0(a, before, after):
        n = a.shape[0]
        rows = []
        for p in range(-before, n + after):
            if 0 <= p < n:
                rows.append(a[p])
            elif mode == "constant":
                rows.append(np.full(a.shape[1], float(cval)))
            elif mode == "nearest":
                rows.append(a[min(max(p, 0), n - 1)])
            elif mode == "wrap":
                rows.append(a[p % n])
            elif mode == "reflect":
                q = p % (2 * n)
                rows.append(a[q if q < n else 2 * n - 1 - q])
            else:
                q = p % (2 * n - 2) if n > 1 else 0
                rows.append(a[q if q < n else 2 * n - 2 - q])
        return np.array(rows).reshape(len(rows), a.shape[1])

    out = pad_axis0(image, widths[0, 0], widths[0, 1])
    return pad_axis0(out.T, widths[1, 0], widths[1, 1]).T.copy()

# %% correlate: wrong[computation]: even kernels anchored like convolve ((k-1)//2 before)
def correlate(image, kernel, mode="reflect", cval=0.0):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("2-D only")
    kh, kw = kernel.shape
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel)

# %% correlate: wrong[computation]: always pads with zeros
def correlate(image, kernel, mode="reflect", cval=0.0):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or kernel.ndim != 2 or mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("bad arguments")
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode="constant", cval=cval)
    return correlate_valid(padded, kernel)

# %% correlate: wrong[computation]: flips the kernel
def correlate(image, kernel, mode="reflect", cval=0.0):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("2-D only")
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel[::-1, ::-1])

# %% correlate: wrong[computation, bad_input] keeps[dtypes]: calls scipy.ndimage imported under another name
from scipy.ndimage import correlate as _scipy_correlate


def correlate(image, kernel, mode="reflect", cval=0.0):
    return _scipy_correlate(np.asarray(image, float), np.asarray(kernel, float), mode=mode, cval=cval)

# %% correlate: correct: accumulate shifted slices of the padded image
def correlate(image, kernel, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    out = np.zeros_like(image)
    h, w = image.shape
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * padded[i:i + h, j:j + w]
    return out

# %% convolve: wrong[computation]: forgets the flip
def convolve(image, kernel, mode="reflect", cval=0.0):
    return correlate(image, kernel, mode=mode, cval=cval)

# %% convolve: wrong[computation]: flips but keeps correlate's anchor
def convolve(image, kernel, mode="reflect", cval=0.0):
    return correlate(image, np.asarray(kernel, float)[::-1, ::-1], mode=mode, cval=cval)

# %% convolve: wrong[computation]: flips one axis only
def convolve(image, kernel, mode="reflect", cval=0.0):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("2-D only")
    kh, kw = kernel.shape
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel[::-1, :])

# %% convolve: wrong[dtypes] keeps[computation, bad_input]: modifies the caller's kernel in place
def convolve(image, kernel, mode="reflect", cval=0.0):
    image = np.asarray(image, float)
    kernel = np.asarray(kernel)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("2-D only")
    kernel[...] = kernel[::-1, ::-1].copy()
    kh, kw = kernel.shape
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel)

# %% convolve: correct: index arithmetic without flipping the array
def convolve(image, kernel, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    kh, kw = kernel.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = pad(image, ((top, kh // 2), (left, kw // 2)), mode=mode, cval=cval)
    h, w = image.shape
    out = np.zeros((h, w))
    for i in range(kh):
        for j in range(kw):
            out += kernel[kh - 1 - i, kw - 1 - j] * padded[i:i + h, j:j + w]
    return out

# %% window_sum: wrong[dtypes, bad_input] keeps[computation]: right maths, no conversion, no checks
def window_sum(patch, kernel):
    return (patch * kernel).sum()

# %% window_sum: wrong[dtypes] keeps[computation, bad_input]: multiplies into the caller's array in place
def window_sum(patch, kernel):
    patch = np.asarray(patch, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if patch.ndim != 2 or patch.shape != kernel.shape:
        raise ValueError("patch and kernel must have the same 2-D shape")
    patch *= kernel
    return float(patch.sum())

# %% correlate_valid: wrong[dtypes, bad_input] keeps[computation]: right maths, no conversion, no checks
def correlate_valid(image, kernel, stride=1):
    kh, kw = kernel.shape
    rows = range(0, image.shape[0] - kh + 1, stride)
    cols = range(0, image.shape[1] - kw + 1, stride)
    return np.array([[(image[r:r + kh, c:c + kw] * kernel).sum() for c in cols] for r in rows])

# %% correlate_valid: wrong[bad_input] keeps[computation, dtypes]: checks with assert instead of raising ValueError
def correlate_valid(image, kernel, stride=1):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    assert image.ndim == 2 and kernel.ndim == 2, "2-D only"
    assert stride >= 1, "stride must be at least 1"
    assert kernel.shape[0] <= image.shape[0] and kernel.shape[1] <= image.shape[1], "kernel too large"
    kh, kw = kernel.shape
    out = np.zeros(((image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = (image[r * stride:r * stride + kh, c * stride:c * stride + kw] * kernel).sum()
    return out

# %% correlate_valid: correct: loop over kernel offsets with strided slices, stride as a NumPy integer
def correlate_valid(image, kernel, stride=1):
    x = np.array(image, dtype=float)
    k = np.array(kernel, dtype=float)
    if x.ndim != 2 or k.ndim != 2:
        raise ValueError("image and kernel must be 2-D arrays")
    if not stride >= 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
        raise ValueError(f"kernel {k.shape} is larger than image {x.shape}")
    s = int(stride)
    rows = len(range(0, x.shape[0] - k.shape[0] + 1, s))
    cols = len(range(0, x.shape[1] - k.shape[1] + 1, s))
    out = np.zeros((rows, cols))
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            out += k[i, j] * x[i:i + s * (rows - 1) + 1:s, j:j + s * (cols - 1) + 1:s]
    return out

# %% pad: wrong[dtypes, bad_input] keeps[computation]: right maths, no conversion, no checks
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

# %% pad: wrong[bad_input] keeps[computation, dtypes]: an unknown mode raises KeyError from a dict of index rules
def pad(image, pad_width, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (2, 2))
    if (widths < 0).any():
        raise ValueError("negative pad width")
    rules = {
        "reflect": lambda p, n: np.where(p % (2 * n) < n, p % (2 * n), 2 * n - 1 - p % (2 * n)),
        "mirror": lambda p, n: (np.zeros_like(p) if n == 1 else
                                np.where(p % (2 * n - 2) < n, p % (2 * n - 2), 2 * n - 2 - p % (2 * n - 2))),
        "nearest": lambda p, n: np.clip(p, 0, n - 1),
        "wrap": lambda p, n: p % n,
        "constant": lambda p, n: p,
    }
    rule = rules[mode]
    (top, bottom), (left, right) = widths
    h, w = image.shape
    if mode == "constant":
        out = np.full((h + top + bottom, w + left + right), float(cval))
        out[top:top + h, left:left + w] = image
        return out
    rows = rule(np.arange(-top, h + bottom), h)
    cols = rule(np.arange(-left, w + right), w)
    return image[np.ix_(rows, cols)]

# %% correlate: wrong[dtypes] keeps[computation, bad_input]: no checks of its own, accumulates in the image's dtype
def correlate(image, kernel, mode="reflect", cval=0.0):
    kh, kw = np.shape(kernel)
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    out = np.zeros_like(image)
    h, w = out.shape
    for i in range(kh):
        for j in range(kw):
            out += (kernel[i][j] * padded[i:i + h, j:j + w]).astype(out.dtype)
    return out

# %% correlate: wrong[bad_input] keeps[computation, dtypes]: raises TypeError for a non-2-D input
def correlate(image, kernel, mode="reflect", cval=0.0):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise TypeError("image and kernel must be 2-D")
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel)

# %% correlate: correct: no checks of its own (pad and correlate_valid raise), sliding_window_view
def correlate(image, kernel, mode="reflect", cval=0.0):
    kernel = np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    padded = pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode=mode, cval=cval)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw))
    return np.tensordot(windows, kernel, axes=([2, 3], [0, 1]))

# %% convolve: wrong[dtypes] keeps[computation, bad_input]: no checks of its own, accumulates in the image's dtype
def convolve(image, kernel, mode="reflect", cval=0.0):
    kh, kw = np.shape(kernel)
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    out = np.zeros_like(image)
    h, w = out.shape
    for i in range(kh):
        for j in range(kw):
            out += (kernel[kh - 1 - i][kw - 1 - j] * padded[i:i + h, j:j + w]).astype(out.dtype)
    return out

# %% convolve: wrong[bad_input] keeps[computation, dtypes]: an unknown mode falls back to reflect
def convolve(image, kernel, mode="reflect", cval=0.0):
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        mode = "reflect"
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    kh, kw = kernel.shape
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    return correlate_valid(padded, kernel[::-1, ::-1])

# %% convolve: correct: correlate with the flipped kernel on a grid shifted for even sizes
def convolve(image, kernel, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("image and kernel must be 2-D")
    kh, kw = kernel.shape
    padded = pad(image, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)), mode=mode, cval=cval)
    flipped = np.flip(kernel)
    return np.array([[np.sum(padded[r:r + kh, c:c + kw] * flipped) for c in range(image.shape[1])]
                     for r in range(image.shape[0])]).reshape(image.shape)
