"""Tests of the tests for notebook 02: plausible wrong answers and different right ones.

Each section is graded as its own submission (the instructor's solutions with that one
cell replaced). A `wrong` one must lose that function's points, in each part named in
brackets, and keep every point of the parts named in `keeps[...]`; a `correct` one must
keep every point of the notebook. Applying kernels with SciPy is allowed in 02. Each
function has a student whose maths is right but who skips the dtype and bad-input rules:
they keep the computation part.
"""

# %% edge_kernel: wrong[dtypes] keeps[computation]: integer array
def edge_kernel():
    return np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])

# %% edge_kernel: wrong[computation]: sign flipped (-8 in the centre)
def edge_kernel():
    kernel = np.ones((3, 3))
    kernel[1, 1] = -8.0
    return kernel

# %% edge_kernel: wrong[computation]: 9 in the centre (sums to 1)
def edge_kernel():
    kernel = -np.ones((3, 3))
    kernel[1, 1] = 9.0
    return kernel

# %% edge_kernel: wrong[computation]: four-neighbour Laplacian
def edge_kernel():
    return np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])

# %% edge_kernel: correct: 9 * identity - ones
def edge_kernel():
    return 9.0 * np.pad(np.ones((1, 1)), 1) - np.ones((3, 3))

# %% edge_kernel: correct: literal with dtype
def edge_kernel():
    return np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float64)

# %% to_display: wrong[computation]: clamped display (clips instead of scaling)
def to_display(response):
    return np.clip(np.asarray(response, dtype=np.float64), 0.0, 1.0)

# %% to_display: wrong[computation]: min-max stretch (zero not at 0.5)
def to_display(response):
    r = np.asarray(response, dtype=np.float64)
    span = r.max() - r.min()
    if span == 0:
        return np.full(r.shape, 0.5)
    return (r - r.min()) / span

# %% to_display: wrong[computation]: divides by the maximum, not the largest absolute value
def to_display(response):
    r = np.asarray(response, dtype=np.float64)
    m = r.max()
    if m == 0:
        return np.full(r.shape, 0.5)
    return 0.5 + 0.5 * r / m

# %% to_display: wrong[computation]: all-zero input gives NaN
def to_display(response):
    r = np.asarray(response, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 0.5 + 0.5 * r / np.abs(r).max()

# %% to_display: wrong[dtypes] keeps[computation]: scales the caller's array in place
def to_display(response):
    r = np.asarray(response)
    if r.dtype != np.float64:
        r = r.astype(np.float64)
    m = np.abs(r).max()
    if m == 0:
        return np.full(r.shape, 0.5)
    r /= 2 * m
    r += 0.5
    return r

# %% to_display: correct: (r / m + 1) / 2
def to_display(response):
    r = np.array(response, dtype=np.float64)
    m = np.max(np.abs(r))
    return np.full_like(r, 0.5) if m == 0 else (r / m + 1.0) / 2.0

# %% to_display: correct: np.interp from [-m, m] onto [0, 1]
def to_display(response):
    r = np.asarray(response, dtype=np.float64)
    m = float(np.abs(r).max())
    if m == 0.0:
        return np.full(r.shape, 0.5)
    return np.interp(r, [-m, m], [0.0, 1.0])

# %% box_kernel: wrong[computation]: unnormalised blur (all ones)
def box_kernel(size=3):
    if size < 1 or int(size) != size:
        raise ValueError("size must be a positive integer")
    return np.ones((int(size), int(size)))

# %% box_kernel: wrong[computation]: weights 1/size
def box_kernel(size=3):
    if size < 1 or int(size) != size:
        raise ValueError("size must be a positive integer")
    return np.full((int(size), int(size)), 1.0 / size)

# %% box_kernel: wrong[computation]: integer division gives zeros
def box_kernel(size=3):
    if size < 1 or int(size) != size:
        raise ValueError("size must be a positive integer")
    return (np.ones((size, size), dtype=int) // size**2).astype(float)

# %% box_kernel: wrong[computation]: always 3x3
def box_kernel(size=3):
    if size < 1 or int(size) != size:
        raise ValueError("size must be a positive integer")
    return np.full((3, 3), 1.0 / 9)

# %% box_kernel: wrong[bad_input] keeps[computation, dtypes]: no check of size (2.5 gives a 2x2 kernel)
def box_kernel(size=3):
    n = int(size)
    return np.full((n, n), 1.0 / n**2)

# %% box_kernel: correct: outer product of 1-D means
def box_kernel(size=3):
    if not float(size).is_integer() or size < 1:
        raise ValueError(f"size must be a positive whole number, got {size}")
    row = np.ones(int(size)) / size
    return np.outer(row, row)

# %% box_kernel: correct: ones divided by the count
def box_kernel(size=3):
    if size != int(size) or size <= 0:
        raise ValueError("box_kernel needs a positive integer size")
    k = np.ones((int(size), int(size)))
    return k / k.size

# %% sharpen_kernel: wrong[computation]: forgets the identity (detail only)
def sharpen_kernel(amount=1.0):
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    return amount * (identity - np.full((3, 3), 1 / 9))

# %% sharpen_kernel: wrong[computation]: adds the whole edge kernel (9 times too much)
def sharpen_kernel(amount=1.0):
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    edge = -np.ones((3, 3))
    edge[1, 1] = 8.0
    return identity + amount * edge

# %% sharpen_kernel: wrong[computation]: (1 + amount) * identity - box
def sharpen_kernel(amount=1.0):
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    return (1 + amount) * identity - np.full((3, 3), 1 / 9)

# %% sharpen_kernel: wrong[computation]: ignores amount
def sharpen_kernel(amount=1.0):
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    return 2 * identity - np.full((3, 3), 1 / 9)

# %% sharpen_kernel: correct: weights written out
def sharpen_kernel(amount=1.0):
    kernel = np.full((3, 3), -amount / 9.0)
    kernel[1, 1] = 1.0 + amount * 8.0 / 9.0
    return kernel

# %% sharpen_kernel: correct: built from box_kernel
def sharpen_kernel(amount=1.0):
    identity = np.pad([[1.0]], 1)
    return (1.0 + amount) * identity - amount * box_kernel(3)

# %% gaussian_kernel: wrong[computation]: sigma radius off by one (int without rounding)
def gaussian_kernel(sigma, truncate=4.0):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma)
    x = np.arange(-r, r + 1)
    g = np.exp(-x**2 / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)

# %% gaussian_kernel: wrong[computation]: radius by round() (half to even)
def gaussian_kernel(sigma, truncate=4.0):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = round(truncate * sigma)
    x = np.arange(-r, r + 1)
    g = np.exp(-x**2 / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)

# %% gaussian_kernel: wrong[computation]: shape 2r instead of 2r + 1
def gaussian_kernel(sigma, truncate=4.0):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma + 0.5)
    x = np.arange(-r, r)
    g = np.exp(-x**2 / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)

# %% gaussian_kernel: wrong[computation]: continuous normalisation 1 / (2 pi sigma^2), not divided by the sum
def gaussian_kernel(sigma, truncate=4.0):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma + 0.5)
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return np.exp(-(x**2 + y**2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)

# %% gaussian_kernel: wrong[computation]: exponent without the 2
def gaussian_kernel(sigma, truncate=4.0):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma + 0.5)
    x = np.arange(-r, r + 1)
    g = np.exp(-x**2 / sigma**2)
    g /= g.sum()
    return np.outer(g, g)

# %% gaussian_kernel: wrong[bad_input] keeps[computation, dtypes]: no check that sigma is positive
def gaussian_kernel(sigma, truncate=4.0):
    r = int(truncate * abs(sigma) + 0.5)
    x = np.arange(-r, r + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.exp(-x**2 / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)

# %% gaussian_kernel: correct: 2-D formula normalised by its 2-D sum
def gaussian_kernel(sigma, truncate=4.0):
    if not sigma > 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma + 0.5)
    y, x = np.mgrid[-r:r + 1, -r:r + 1].astype(float)
    k = np.exp(-(x**2 + y**2) / (2.0 * sigma**2))
    return k / k.sum()

# %% gaussian_kernel: correct: scipy.signal.windows.gaussian
def gaussian_kernel(sigma, truncate=4.0):
    from scipy.signal import windows
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    r = int(truncate * sigma + 0.5)
    g = windows.gaussian(2 * r + 1, std=sigma)
    k = g[:, None] * g[None, :]
    return k / k.sum()

# %% separable_filter: wrong[computation]: convolve1d (flips the kernels)
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or np.ndim(column_kernel) != 1 or np.ndim(row_kernel) != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("unknown mode")
    tmp = ndi.convolve1d(image, column_kernel, axis=0, mode=mode)
    return ndi.convolve1d(tmp, row_kernel, axis=1, mode=mode)

# %% separable_filter: wrong[computation]: axes swapped
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or np.ndim(column_kernel) != 1 or np.ndim(row_kernel) != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("unknown mode")
    tmp = ndi.correlate1d(image, column_kernel, axis=1, mode=mode)
    return ndi.correlate1d(tmp, row_kernel, axis=0, mode=mode)

# %% separable_filter: wrong[dtypes] keeps[computation, bad_input]: keeps the input dtype (uint8 wraps, float32 stays float32)
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image)
    if image.ndim != 2 or np.ndim(column_kernel) != 1 or np.ndim(row_kernel) != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("unknown mode")
    tmp = ndi.correlate1d(image, np.asarray(column_kernel, float), axis=0, mode=mode)
    return ndi.correlate1d(tmp, np.asarray(row_kernel, float), axis=1, mode=mode)

# %% separable_filter: wrong[computation]: ignores mode
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or np.ndim(column_kernel) != 1 or np.ndim(row_kernel) != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("unknown mode")
    return ndi.correlate1d(ndi.correlate1d(image, column_kernel, axis=0), row_kernel, axis=1)

# %% separable_filter: wrong[bad_input] keeps[computation, dtypes]: lets SciPy's RuntimeError through for an unknown mode
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or np.ndim(column_kernel) != 1 or np.ndim(row_kernel) != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    tmp = ndi.correlate1d(image, column_kernel, axis=0, mode=mode)
    return ndi.correlate1d(tmp, row_kernel, axis=1, mode=mode)

# %% separable_filter: correct: one 2-D correlation with the outer product
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    col = np.asarray(column_kernel, dtype=np.float64)
    row = np.asarray(row_kernel, dtype=np.float64)
    if image.ndim != 2 or col.ndim != 1 or row.ndim != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    if mode not in {"reflect", "mirror", "nearest", "wrap", "constant"}:
        raise ValueError(f"unknown mode {mode}")
    return ndi.correlate(image, np.outer(col, row), mode=mode)

# %% separable_filter: correct: numpy.pad and a loop over the taps
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    names = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap",
             "constant": "constant"}
    image = np.asarray(image, dtype=np.float64)
    col = np.asarray(column_kernel, dtype=np.float64)
    row = np.asarray(row_kernel, dtype=np.float64)
    if image.ndim != 2 or col.ndim != 1 or row.ndim != 1 or mode not in names:
        raise ValueError("bad arguments")

    def one_pass(x, k, axis):
        n = len(k)
        widths = [(0, 0), (0, 0)]
        widths[axis] = (n // 2, n - 1 - n // 2)
        padded = np.pad(x, widths, mode=names[mode])
        out = np.zeros_like(x)
        for t in range(n):
            out += k[t] * (padded[t:t + x.shape[0], :] if axis == 0 else padded[:, t:t + x.shape[1]])
        return out

    return one_pass(one_pass(image, col, 0), row, 1)

# %% sobel_kernels: wrong[computation]: transposed (kx and ky swapped)
def sobel_kernels():
    kx = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])
    return kx.T.copy(), kx

# %% sobel_kernels: wrong[computation]: convolution form (sign flipped)
def sobel_kernels():
    kx = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return kx, kx.T.copy()

# %% sobel_kernels: wrong[computation]: Prewitt (no 2 in the middle)
def sobel_kernels():
    kx = np.outer([1.0, 1.0, 1.0], [-1.0, 0.0, 1.0])
    return kx, kx.T.copy()

# %% sobel_kernels: wrong[computation]: normalised by 8
def sobel_kernels():
    kx = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]) / 8
    return kx, kx.T.copy()

# %% sobel_kernels: correct: typed out
def sobel_kernels():
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float)
    return kx, ky

# %% sobel_kernels: correct: broadcasting, returned as a list
def sobel_kernels():
    smooth = np.array([1.0, 2.0, 1.0])
    diff = np.array([-1.0, 0.0, 1.0])
    return [smooth[:, None] * diff[None, :], diff[:, None] * smooth[None, :]]

# %% gradient_magnitude: wrong[computation]: |gx| + |gy|
def gradient_magnitude(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    return np.abs(ndi.sobel(image, axis=1)) + np.abs(ndi.sobel(image, axis=0))

# %% gradient_magnitude: wrong[computation]: no square root
def gradient_magnitude(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    return ndi.sobel(image, axis=1) ** 2 + ndi.sobel(image, axis=0) ** 2

# %% gradient_magnitude: wrong[dtypes] keeps[computation, bad_input]: uint8 image not converted (sobel wraps around)
def gradient_magnitude(image):
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    gx = ndi.sobel(image, axis=1).astype(float)
    gy = ndi.sobel(image, axis=0).astype(float)
    return np.sqrt(gx**2 + gy**2)

# %% gradient_magnitude: wrong[computation]: zero borders (mode constant)
def gradient_magnitude(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    kx, ky = sobel_kernels()
    return np.hypot(ndi.correlate(image, kx, mode="constant"), ndi.correlate(image, ky, mode="constant"))

# %% gradient_magnitude: wrong[computation]: Prewitt kernels
def gradient_magnitude(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    return np.hypot(ndi.prewitt(image, axis=1), ndi.prewitt(image, axis=0))

# %% gradient_magnitude: correct: generic_gradient_magnitude on the float image
def gradient_magnitude(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"need a 2-D image, got shape {image.shape}")
    return ndi.generic_gradient_magnitude(image, ndi.sobel)

# %% gradient_magnitude: correct: separable Sobel passes and sqrt
def gradient_magnitude(image):
    x = np.asarray(image).astype(np.float64)
    if x.ndim != 2:
        raise ValueError("image must be 2-D")
    gx = ndi.correlate1d(ndi.correlate1d(x, [-1.0, 0.0, 1.0], axis=1), [1.0, 2.0, 1.0], axis=0)
    gy = ndi.correlate1d(ndi.correlate1d(x, [-1.0, 0.0, 1.0], axis=0), [1.0, 2.0, 1.0], axis=1)
    return np.sqrt(gx * gx + gy * gy)

# %% filter_rgb: wrong[computation]: correlates instead of convolving
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3 or kernel.ndim != 2:
        raise ValueError("need an (H, W, 3) image and a 2-D kernel")
    return ndi.correlate(image, kernel[:, :, None], mode=mode)

# %% filter_rgb: wrong[computation]: 3x3x3 kernel mixes the channels
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3 or kernel.ndim != 2:
        raise ValueError("need an (H, W, 3) image and a 2-D kernel")
    return ndi.convolve(image, np.repeat(kernel[:, :, None], 3, axis=2) / 3, mode=mode)

# %% filter_rgb: wrong[dtypes] keeps[computation, bad_input]: uint8 image not converted
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    if image.ndim != 3 or image.shape[2] != 3 or kernel.ndim != 2:
        raise ValueError("need an (H, W, 3) image and a 2-D kernel")
    return np.stack([ndi.convolve(image[:, :, c], kernel, mode=mode) for c in range(3)],
                    axis=2).astype(np.float64)

# %% filter_rgb: wrong[computation]: clips the result to [0, 1]
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3 or kernel.ndim != 2:
        raise ValueError("need an (H, W, 3) image and a 2-D kernel")
    return np.clip(ndi.convolve(image, kernel[:, :, None], mode=mode), 0.0, 1.0)

# %% filter_rgb: wrong[computation]: correlates with the flipped kernel (even kernels shift)
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3 or kernel.ndim != 2:
        raise ValueError("need an (H, W, 3) image and a 2-D kernel")
    flipped = kernel[::-1, ::-1]
    return np.dstack([ndi.correlate(image[..., c], flipped, mode=mode) for c in range(3)])

# %% filter_rgb: correct: one 3-D convolve with a (kh, kw, 1) kernel
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be (H, W, 3), got {image.shape}")
    if kernel.ndim != 2:
        raise ValueError("kernel must be 2-D")
    return ndi.convolve(image, kernel[:, :, np.newaxis], mode=mode)

# %% filter_rgb: correct: channels into a preallocated array
def filter_rgb(image, kernel, mode="reflect"):
    x = np.array(image, dtype=float)
    k = np.array(kernel, dtype=float)
    if x.ndim != 3 or x.shape[2] != 3 or k.ndim != 2:
        raise ValueError("bad shapes")
    out = np.empty_like(x)
    for c in range(3):
        ndi.convolve(x[:, :, c], k, output=out[:, :, c], mode=mode)
    return out


# %% edge_kernel: wrong[dtypes] keeps[computation]: a nested list of floats
def edge_kernel():
    return [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]

# %% to_display: wrong[dtypes] keeps[computation]: right maths, no conversion (float32 stays float32)
def to_display(response):
    m = np.abs(response).max()
    if m == 0:
        return np.full(np.shape(response), 0.5)
    return 0.5 + 0.5 * response / m

# %% box_kernel: wrong[bad_input] keeps[computation, dtypes]: right maths, no check of size
def box_kernel(size=3):
    return np.full((size, size), 1 / size**2)

# %% box_kernel: wrong[dtypes] keeps[computation, bad_input]: float32 weights
def box_kernel(size=3):
    if size != int(size) or size < 1:
        raise ValueError("size must be a positive whole number")
    return np.full((int(size), int(size)), 1 / size**2, dtype=np.float32)

# %% sharpen_kernel: wrong[dtypes] keeps[computation]: right maths, returned as a nested list
def sharpen_kernel(amount=1.0):
    return [[(1 + amount * 8 / 9) if (i, j) == (1, 1) else -amount / 9 for j in range(3)] for i in range(3)]

# %% sharpen_kernel: correct: np.eye-free identity via np.pad, whole numbers welcome
def sharpen_kernel(amount=1.0):
    identity = np.pad(np.ones((1, 1)), 1)
    return identity + float(amount) * (identity - np.full((3, 3), 1 / 9))

# %% gaussian_kernel: wrong[dtypes] keeps[computation, bad_input]: builds a nested list with math.exp
def gaussian_kernel(sigma, truncate=4.0):
    import math
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma + 0.5)
    rows = [[math.exp(-(x * x + y * y) / (2 * sigma * sigma)) for x in range(-r, r + 1)] for y in range(-r, r + 1)]
    total = sum(map(sum, rows))
    return [[v / total for v in row] for row in rows]

# %% gaussian_kernel: wrong[bad_input] keeps[computation, dtypes]: right maths, no check of sigma
def gaussian_kernel(sigma, truncate=4.0):
    r = int(truncate * sigma + 0.5)
    x = np.arange(-r, r + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.exp(-x**2 / (2 * sigma**2))
        g = g / g.sum()
    return np.outer(g, g)

# %% separable_filter: wrong[dtypes, bad_input] keeps[computation]: right maths, no conversion, no checks
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    return ndi.correlate1d(ndi.correlate1d(image, column_kernel, axis=0, mode=mode), row_kernel, axis=1, mode=mode)

# %% separable_filter: wrong[dtypes, bad_input] keeps[computation]: calls .ndim on the kernels (lists fail)
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or column_kernel.ndim != 1 or row_kernel.ndim != 1:
        raise ValueError("need a 2-D image and 1-D kernels")
    if mode not in ("reflect", "mirror", "nearest", "wrap", "constant"):
        raise ValueError("unknown mode")
    tmp = ndi.correlate1d(image, column_kernel.astype(float), axis=0, mode=mode)
    return ndi.correlate1d(tmp, row_kernel.astype(float), axis=1, mode=mode)

# %% sobel_kernels: wrong[dtypes] keeps[computation]: right numbers as int64 arrays
def sobel_kernels():
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    return kx, kx.T

# %% gradient_magnitude: wrong[dtypes, bad_input] keeps[computation]: right maths, no conversion, no check
def gradient_magnitude(image):
    return np.hypot(ndi.sobel(image, axis=1), ndi.sobel(image, axis=0))

# %% gradient_magnitude: wrong[bad_input] keeps[computation, dtypes]: raises TypeError for a non-2-D image
def gradient_magnitude(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise TypeError("image must be 2-D")
    return np.hypot(ndi.sobel(image, axis=1), ndi.sobel(image, axis=0))

# %% filter_rgb: wrong[dtypes, bad_input] keeps[computation]: right maths, no conversion, no checks
def filter_rgb(image, kernel, mode="reflect"):
    return ndi.convolve(image, np.asarray(kernel)[:, :, None], mode=mode)

# %% filter_rgb: wrong[bad_input] keeps[computation, dtypes]: a grey image is filtered instead of refused
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim == 2:
        return ndi.convolve(image, kernel, mode=mode)
    if image.ndim != 3 or image.shape[2] != 3 or kernel.ndim != 2:
        raise ValueError("need an (H, W, 3) image and a 2-D kernel")
    return ndi.convolve(image, kernel[:, :, None], mode=mode)

# %% diagonal_edge_kernel: wrong[computation] keeps[flat]: Sobel x (both diagonals alike)
diagonal_edge_kernel = np.array([[-1.0, 0.0, 1.0],
                                 [-2.0, 0.0, 2.0],
                                 [-1.0, 0.0, 1.0]])

# %% diagonal_edge_kernel: wrong[computation] keeps[flat]: the other diagonal (finds edges like \)
diagonal_edge_kernel = np.array([[0.0, 1.0, 2.0],
                                 [-1.0, 0.0, 1.0],
                                 [-2.0, -1.0, 0.0]])

# %% diagonal_edge_kernel: wrong[computation] keeps[flat]: the edge kernel (no direction)
diagonal_edge_kernel = np.array([[-1.0, -1.0, -1.0],
                                 [-1.0, 8.0, -1.0],
                                 [-1.0, -1.0, -1.0]])

# %% diagonal_edge_kernel: wrong[flat]: the emboss preset, pasted (its weights sum to 1)
diagonal_edge_kernel = np.array([[-2.0, -1.0, 0.0],
                                 [-1.0, 1.0, 1.0],
                                 [0.0, 1.0, 2.0]])

# %% diagonal_edge_kernel: wrong[flat] keeps[computation]: the right direction, but a slider left at 0.1 in the centre
diagonal_edge_kernel = np.array([[-2.0, -1.0, 0.0],
                                 [-1.0, 0.1, 1.0],
                                 [0.0, 1.0, 2.0]])

# %% diagonal_edge_kernel: wrong[computation, flat]: all zeros
diagonal_edge_kernel = np.zeros((3, 3))

# %% diagonal_edge_kernel: wrong[computation, flat]: a 2x3 kernel
diagonal_edge_kernel = np.array([[-1.0, 0.0, 1.0],
                                 [0.0, 1.0, -1.0]])

# %% diagonal_edge_kernel: correct: Sobel kx + ky, as a nested list of integers
diagonal_edge_kernel = [[-2, -2, 0],
                        [-2, 0, 2],
                        [0, 2, 2]]

# %% diagonal_edge_kernel: correct: a difference of two pixels along the down-right diagonal
diagonal_edge_kernel = np.array([[0.0, 0.0, 0.0],
                                 [0.0, -1.0, 0.0],
                                 [0.0, 0.0, 1.0]])

# %% diagonal_edge_kernel: correct: small and negated
diagonal_edge_kernel = -0.05 * np.array([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]])

# %% diagonal_edge_kernel: correct: a second difference along the down-right diagonal (a ridge detector)
diagonal_edge_kernel = np.array([[1.0, 0.0, 0.0],
                                 [0.0, -2.0, 0.0],
                                 [0.0, 0.0, 1.0]])
