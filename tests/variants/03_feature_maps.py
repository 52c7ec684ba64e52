"""Tests of the tests for notebook 03: plausible wrong answers and different right ones.

Each section is graded as its own submission (the instructor's solutions with that one
cell replaced). A `wrong` one must lose that function's points, in each part named in
brackets, and keep every point of the parts named in `keeps[...]`; a `correct` one must
keep every point of the notebook. The pooling functions, like the layers, are NumPy only. The slow correct `conv2d` (six nested loops, one
multiplication at a time) also checks that a slow-but-correct student stays within the
notebook's time budget.
"""

# %% conv_output_size: wrong[computation]: padding counted once
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = (size + padding - kernel_size) // stride + 1
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong[computation]: true division, no floor
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = (size + 2 * padding - kernel_size) / stride + 1
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong[computation]: forgets the + 1
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = (size + 2 * padding - kernel_size) // stride
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong[computation]: rounds up (ceil)
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = -(-(size + 2 * padding - kernel_size) // stride) + 1
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong[bad_input] keeps[computation]: no ValueError, returns 0 or less
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be positive")
    return (size + 2 * padding - kernel_size) // stride + 1

# %% conv_output_size: correct: counts the window positions with range
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if min(size, kernel_size, stride) < 1 or padding < 0:
        raise ValueError("size, kernel_size and stride must be positive, padding not negative")
    positions = range(0, size + 2 * padding - kernel_size + 1, stride)
    if len(positions) == 0:
        raise ValueError(f"a {kernel_size}-wide kernel does not fit in {size} + 2 * {padding} pixels")
    return len(positions)

# %% conv2d: wrong[computation]: convolution (flips the kernels)
def conv2d(x, weights, bias=None, stride=1, padding=0):
    return _instructor_conv2d(x, np.asarray(weights)[:, :, ::-1, ::-1], bias, stride, padding)


def _instructor_conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (n_filters,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((channels, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.empty((n_filters, out_h, out_w))
    for f in range(n_filters):
        for r in range(out_h):
            for s in range(out_w):
                window = padded[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[f, r, s] = (window * weights[f]).sum() + bias[f]
    return out

# %% conv2d: wrong[computation]: stride applied before padding
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    if stride < 1 or padding < 0:
        raise ValueError("bad stride or padding")
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (n_filters,):
        raise ValueError("bias must have shape (F,)")
    x = x[:, ::stride, ::stride]  # subsample first...
    padded = np.zeros((channels, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out_h, out_w = padded.shape[1] - kh + 1, padded.shape[2] - kw + 1  # ...then slide one by one
    if out_h < 1 or out_w < 1:
        raise ValueError("the kernel does not fit")
    out = np.empty((n_filters, out_h, out_w))
    for f in range(n_filters):
        for r in range(out_h):
            for s in range(out_w):
                out[f, r, s] = (padded[:, r:r + kh, s:s + kw] * weights[f]).sum() + bias[f]
    return out

# %% conv2d: wrong[computation]: bias added once per channel
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (n_filters,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((channels, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.zeros((n_filters, out_h, out_w))
    for f in range(n_filters):
        for c in range(channels):
            for r in range(out_h):
                for s in range(out_w):
                    window = padded[c, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    out[f, r, s] += (window * weights[f, c]).sum() + bias[f]
    return out

# %% conv2d: wrong[dtypes] keeps[computation, bad_input]: keeps uint8, wraps around at 256
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x, weights = np.asarray(x), np.asarray(weights)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (n_filters,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((channels, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding), dtype=x.dtype)
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.empty((n_filters, out_h, out_w))
    for f in range(n_filters):
        for r in range(out_h):
            for s in range(out_w):
                window = padded[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[f, r, s] = (window * weights[f]).sum(dtype=window.dtype) + bias[f]
    return out

# %% conv2d: wrong[computation] keeps[dtypes, bad_input]: pads with numpy.pad (not by hand)
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (n_filters,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    out = np.empty((n_filters, out_h, out_w))
    for f in range(n_filters):
        for r in range(out_h):
            for s in range(out_w):
                window = padded[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[f, r, s] = (window * weights[f]).sum() + bias[f]
    return out

# %% conv2d: correct: six nested loops, one multiplication at a time (slow)
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError("x must be 3-D")
    if weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("weights must be (F, C, kh, kw) with C = x.shape[0]")
    F, C, kh, kw = weights.shape
    if bias is not None and np.shape(bias) != (F,):
        raise ValueError("bias must have one value per filter")
    if stride < 1 or padding < 0:
        raise ValueError("bad stride or padding")
    H, W = x.shape[1] + 2 * padding, x.shape[2] + 2 * padding
    out_h, out_w = (H - kh) // stride + 1, (W - kw) // stride + 1
    if out_h < 1 or out_w < 1:
        raise ValueError("kernel larger than the padded input")
    xl = x.tolist()
    wl = weights.tolist()

    def pixel(c, r, s):
        r, s = r - padding, s - padding
        if 0 <= r < x.shape[1] and 0 <= s < x.shape[2]:
            return xl[c][r][s]
        return 0.0

    out = np.zeros((F, out_h, out_w))
    for f in range(F):
        for r in range(out_h):
            for s in range(out_w):
                total = 0.0 if bias is None else float(bias[f])
                for c in range(C):
                    for i in range(kh):
                        for j in range(kw):
                            total += wl[f][c][i][j] * pixel(c, r * stride + i, s * stride + j)
                out[f, r, s] = total
    return out

# %% conv2d: correct: vectorised, a loop over kernel offsets
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.zeros((F, out_h, out_w)) + bias[:, None, None]
    for i in range(kh):
        for j in range(kw):
            part = padded[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
            out += np.tensordot(weights[:, :, i, j], part, axes=(1, 0))
    return out

# %% conv2d_fast: wrong[speed] keeps[computation, dtypes, bad_input]: still loops over pixels (vectorised over filters and channels)
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    flat = weights.reshape(F, -1)
    out = np.empty((F, out_h, out_w))
    for r in range(out_h):
        for s in range(out_w):
            window = padded[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
            out[:, r, s] = flat @ window.ravel() + bias
    return out

# %% conv2d_fast: wrong[speed] keeps[computation, dtypes, bad_input]: calls the loop version
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    return conv2d(x, weights, bias, stride=stride, padding=padding)

# %% conv2d_fast: wrong[computation]: channels summed in the wrong axis (filters instead)
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = 0.0
    for i in range(kh):
        for j in range(kw):
            part = padded[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
            products = weights[:, :, i, j, None, None] * part[None]  # (F, C, H', W')
            out = out + products.sum(axis=0)  # should be axis=1, the channels
    return out + bias[:, None, None]

# %% conv2d_fast: wrong[computation]: bias broadcast along the last axis
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    if bias is not None and np.shape(bias) != (F,):
        raise ValueError("bias must have shape (F,)")
    conv_output_size(x.shape[1], kh, stride, padding)
    conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    out = np.einsum("crsij,fcij->frs", windows, weights, optimize=True)
    if bias is None:
        return out
    if out.shape[2] == F:
        return out + bias  # numpy lines bias up with the last axis: one value per column
    return out + bias.reshape(F, 1, 1)

# %% conv2d_fast: wrong[computation]: stride applied before padding
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    if stride < 1 or padding < 0:
        raise ValueError("bad stride or padding")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    x = x[:, ::stride, ::stride]
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    if padded.shape[1] < kh or padded.shape[2] < kw:
        raise ValueError("the kernel does not fit")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    return np.einsum("crsij,fcij->frs", windows, weights, optimize=True) + bias[:, None, None]

# %% conv2d_fast: wrong[computation]: computes in float32
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float32)
    weights = np.asarray(weights, dtype=np.float32)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    conv_output_size(x.shape[1], kh, stride, padding)
    conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding), dtype=np.float32)
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    out = np.einsum("crsij,fcij->frs", windows, weights, optimize=True)
    return out.astype(np.float64) + bias[:, None, None]

# %% conv2d_fast: wrong[computation]: convolution (kernels flipped)
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    conv_output_size(x.shape[1], kh, stride, padding)
    conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("crsij,fcij->frs", windows, weights[:, :, ::-1, ::-1], optimize=True) + bias[:, None, None]

# %% conv2d_fast: wrong[computation] keeps[dtypes, bad_input]: SciPy per filter and channel (not NumPy only)
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    conv_output_size(x.shape[1], kh, stride, padding)
    conv_output_size(x.shape[2], kw, stride, padding)
    return scipy_conv2d(x, weights, bias, stride=stride, padding=padding)

# %% conv2d_fast: correct: im2col and one matrix product
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"x must be (C, H, W), got {x.shape}")
    if weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError(f"weights {weights.shape} do not fit x {x.shape}")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    columns = windows.transpose(0, 3, 4, 1, 2).reshape(C * kh * kw, out_h * out_w)  # copies: im2col
    return (weights.reshape(F, -1) @ columns + bias[:, None]).reshape(F, out_h, out_w)

# %% conv2d_fast: correct: loop over kernel offsets with tensordot
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.zeros((F, out_h, out_w)) + bias[:, None, None]
    for i in range(kh):
        for j in range(kw):
            part = padded[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
            out += np.tensordot(weights[:, :, i, j], part, axes=(1, 0))
    return out

# %% conv2d_fast: correct: FFT with numpy.fft
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    conv_output_size(x.shape[1], kh, stride, padding)
    conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    H, W = padded.shape[1:]
    # correlation = convolution with the flipped kernel; keep the 'valid' part
    spectrum_x = np.fft.rfft2(padded, s=(H, W))
    spectrum_w = np.fft.rfft2(weights[:, :, ::-1, ::-1], s=(H, W))
    full = np.fft.irfft2((spectrum_w * spectrum_x[None]).sum(axis=1), s=(H, W))
    valid = full[:, kh - 1:, kw - 1:]
    return valid[:, ::stride, ::stride] + bias[:, None, None]

# %% conv2d_fast: correct: loop over rows only (vectorised along each row)
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    out_h = conv_output_size(x.shape[1], kh, stride, padding)
    out_w = conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    flat = weights.reshape(F, -1)
    out = np.empty((F, out_h, out_w))
    for r in range(out_h):
        band = padded[:, r * stride:r * stride + kh]  # (C, kh, W)
        row = np.lib.stride_tricks.sliding_window_view(band, kw, axis=2)[:, :, ::stride]  # (C, kh, W', kw)
        out[:, r] = flat @ row.transpose(0, 1, 3, 2).reshape(C * kh * kw, out_w)
    return out + bias[:, None, None]

# %% relu: wrong[dtypes] keeps[computation]: changes its input in place
def relu(x):
    x = np.asarray(x, dtype=np.float64)
    x[x < 0] = 0.0  # a float64 input is not copied by asarray: the caller's array changes
    return x

# %% relu: wrong[computation]: absolute value
def relu(x):
    return np.abs(np.asarray(x, dtype=np.float64))

# %% relu: wrong[computation]: clips to [0, 1] as for display
def relu(x):
    return np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)

# %% relu: wrong[dtypes] keeps[computation]: keeps the input's dtype
def relu(x):
    return np.maximum(x, 0)

# %% relu: correct: where
def relu(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, 0.0)

# %% relu: correct: multiply by the mask, on a copy
def relu(x):
    out = np.array(x, dtype=np.float64)  # np.array copies
    out *= out > 0
    return out

# %% feature_map_bytes: wrong[computation]: counts bits
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * np.dtype(dtype).itemsize * 8

# %% feature_map_bytes: wrong[computation]: forgets the batch
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * np.dtype(dtype).itemsize

# %% feature_map_bytes: wrong[computation]: always 4 bytes per number
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * 4

# %% feature_map_bytes: wrong[computation]: megabytes instead of bytes
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * np.dtype(dtype).itemsize / 2**20

# %% feature_map_bytes: wrong[computation]: a table of two dtype names
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    size = {"float32": 4, "float64": 8}[dtype if isinstance(dtype, str) else np.dtype(dtype).name]
    return height * width * filters * batch * size

# %% feature_map_bytes: correct: the size of an empty array of that shape
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    shape = (batch, filters, height, width)
    if any(n < 1 for n in shape):
        raise ValueError(f"every size must be positive, got {shape}")
    return int(np.prod(shape, dtype=np.int64)) * np.empty(0, dtype=dtype).itemsize

# %% conv2d: wrong[computation] keeps[dtypes, bad_input]: scipy.signal.correlate2d per channel (not by hand)
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or weights.shape[1] != x.shape[0]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw)")
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (F,):
        raise ValueError("bias must have shape (F,)")
    conv_output_size(x.shape[1], kh, stride, padding)
    conv_output_size(x.shape[2], kw, stride, padding)
    padded = np.zeros((C, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    return np.array([sum(signal.correlate2d(padded[c], weights[f, c], mode="valid")[::stride, ::stride]
                         for c in range(C)) + bias[f] for f in range(F)])

# %% conv2d: wrong[bad_input] keeps[computation, dtypes]: right maths, no checks of the arguments
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    F, C, kh, kw = weights.shape
    bias = np.zeros(F) if bias is None else np.asarray(bias, dtype=np.float64).ravel()
    out_h = (x.shape[1] + 2 * padding - kh) // stride + 1
    out_w = (x.shape[2] + 2 * padding - kw) // stride + 1
    padded = np.zeros((x.shape[0], x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.zeros((F, max(out_h, 0), max(out_w, 0)))
    for f in range(F):
        for r in range(out.shape[1]):
            for s in range(out.shape[2]):
                out[f, r, s] = (padded[:C, r * stride:r * stride + kh, s * stride:s * stride + kw]
                                * weights[f]).sum() + bias[f]
    return out

# %% feature_map_bytes: wrong[dtypes] keeps[computation, bad_input]: NumPy integer sizes give a NumPy integer
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * np.dtype(dtype).itemsize

# %% feature_map_bytes: wrong[bad_input] keeps[computation, dtypes]: no check of the sizes
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    return int(height) * int(width) * int(filters) * int(batch) * np.dtype(dtype).itemsize

# %% max_pool2d: wrong[computation]: stride 1 by default (overlapping windows)
def max_pool2d(x, size=2, stride=None):
    x = np.array(x, dtype=np.float64)
    stride = 1 if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(3, 4))

# %% max_pool2d: wrong[computation]: keeps the first pixel of each window (subsampling)
def max_pool2d(x, size=2, stride=None):
    x = np.array(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    return x[:, ::stride, ::stride][:, :out_h, :out_w].copy()

# %% max_pool2d: wrong[computation]: keeps the partial windows at the bottom and the right (ceil mode)
def max_pool2d(x, size=2, stride=None):
    x = np.array(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    out_h, out_w = -(-(x.shape[1] - size) // stride) + 1, -(-(x.shape[2] - size) // stride) + 1
    out = np.empty((x.shape[0], out_h, out_w))
    for r in range(out_h):
        for s in range(out_w):
            out[:, r, s] = x[:, r * stride:r * stride + size, s * stride:s * stride + size].max(axis=(1, 2))
    return out

# %% max_pool2d: wrong[computation] keeps[dtypes, bad_input]: scipy.ndimage.maximum_filter (not NumPy only)
def max_pool2d(x, size=2, stride=None):
    import scipy.ndimage as ndi

    x = np.array(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    full = ndi.maximum_filter(x, size=(1, size, size), mode="constant", cval=-np.inf)
    s0 = size // 2  # the window centred at s0 starts at 0
    return full[:, s0::stride, s0::stride][:, :out_h, :out_w]

# %% max_pool2d: wrong[dtypes] keeps[computation, bad_input]: uint8 in, uint8 out
def max_pool2d(x, size=2, stride=None):
    x = np.asarray(x)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(3, 4))

# %% max_pool2d: wrong[bad_input] keeps[computation, dtypes]: no checks (a loop over offsets)
def max_pool2d(x, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    stride = size if stride is None else stride
    out_h, out_w = (x.shape[-2] - size) // stride + 1, (x.shape[-1] - size) // stride + 1
    out = np.full(x.shape[:-2] + (max(out_h, 0), max(out_w, 0)), -np.inf)
    for i in range(size):
        for j in range(size):
            part = x[..., i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
            out = np.maximum(out, part[..., :out.shape[-2], :out.shape[-1]]) if part.size else out
    return out

# %% max_pool2d: correct: reshape into blocks when the windows tile, a loop over offsets otherwise
def max_pool2d(x, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3:
        raise ValueError(f"x must be (C, H, W), got {x.shape}")
    if size < 1 or stride < 1:
        raise ValueError("size and stride must be at least 1")
    C, H, W = x.shape
    if size > H or size > W:
        raise ValueError("the window is larger than the maps")
    out_h, out_w = (H - size) // stride + 1, (W - size) // stride + 1
    if stride == size:
        return x[:, :out_h * size, :out_w * size].reshape(C, out_h, size, out_w, size).max(axis=(2, 4))
    out = np.full((C, out_h, out_w), -np.inf)
    for i in range(size):
        for j in range(size):
            out = np.maximum(out, x[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride])
    return out

# %% max_pool2d: correct: plain loops over channels and windows
def max_pool2d(x, size=2, stride=None):
    x = np.array(x, dtype=np.float64)
    if stride is None:
        stride = size
    if x.ndim != 3 or size < 1 or stride < 1 or size > x.shape[1] or size > x.shape[2]:
        raise ValueError("x must be (C, H, W), size and stride at least 1, the window inside the maps")
    out = np.zeros((x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1))
    for c in range(out.shape[0]):
        for r in range(out.shape[1]):
            for s in range(out.shape[2]):
                out[c, r, s] = x[c, r * stride:r * stride + size, s * stride:s * stride + size].max()
    return out

# %% avg_pool2d: wrong[computation]: divides by size, not size * size
def avg_pool2d(x, size=2, stride=None):
    x = np.array(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.sum(axis=(3, 4)) / size

# %% avg_pool2d: wrong[computation]: stride 1 by default (overlapping windows)
def avg_pool2d(x, size=2, stride=None):
    x = np.array(x, dtype=np.float64)
    stride = 1 if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.mean(axis=(3, 4))

# %% avg_pool2d: wrong[computation] keeps[dtypes, bad_input]: scipy.ndimage.uniform_filter (not NumPy only)
def avg_pool2d(x, size=2, stride=None):
    import scipy.ndimage as ndi

    x = np.array(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    full = ndi.uniform_filter(x, size=(1, size, size), mode="constant")
    s0 = size // 2
    return full[:, s0::stride, s0::stride][:, :out_h, :out_w]

# %% avg_pool2d: wrong[dtypes] keeps[computation, bad_input]: sums uint8 pixels in uint8 (wraps around at 256)
def avg_pool2d(x, size=2, stride=None):
    x = np.asarray(x)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.sum(axis=(3, 4), dtype=x.dtype) / (size * size)

# %% avg_pool2d: wrong[dtypes] keeps[computation]: divides the caller's array in place first
def avg_pool2d(x, size=2, stride=None):
    x = np.asarray(x)
    if x.dtype != np.float64:
        x = x.astype(np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    x /= size * size  # a float64 input is the caller's own array
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.sum(axis=(3, 4))

# %% avg_pool2d: correct: a running sum over the kernel offsets
def avg_pool2d(x, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3:
        raise ValueError(f"x must be (C, H, W), got {x.shape}")
    if size < 1 or stride < 1:
        raise ValueError("size and stride must be at least 1")
    if size > x.shape[1] or size > x.shape[2]:
        raise ValueError("the window is larger than the maps")
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    total = np.zeros((x.shape[0], out_h, out_w))
    for i in range(size):
        for j in range(size):
            total += x[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
    return total / (size * size)

# %% max_pool2d_backward: wrong[computation]: spreads the gradient evenly (average pooling's backward)
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError("grad_out must have the pooled output's shape")
    grad = np.zeros(x.shape)
    for c, r, s in np.ndindex(*shape):
        grad[c, r * stride:r * stride + size, s * stride:s * stride + size] += grad_out[c, r, s] / size**2
    return grad

# %% max_pool2d_backward: wrong[computation] keeps[bad_input]: overwrites where windows overlap (= instead of +=)
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError("grad_out must have the pooled output's shape")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    flat = windows.reshape(shape + (size * size,)).argmax(axis=3)
    c, r, s = np.indices(shape)
    grad = np.zeros(x.shape)
    grad[c, r * stride + flat // size, s * stride + flat % size] = grad_out
    return grad

# %% max_pool2d_backward: wrong[computation]: every pixel equal to the maximum gets the gradient (ties)
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError("grad_out must have the pooled output's shape")
    grad = np.zeros(x.shape)
    for c, r, s in np.ndindex(*shape):
        window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
        grad[c, r * stride:r * stride + size, s * stride:s * stride + size] += (window == window.max()) * grad_out[c, r, s]
    return grad

# %% max_pool2d_backward: wrong[computation]: row and column of the maximum swapped
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError("grad_out must have the pooled output's shape")
    grad = np.zeros(x.shape)
    for c, r, s in np.ndindex(*shape):
        window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
        k = int(np.argmax(window))
        grad[c, r * stride + k % size, s * stride + k // size] += grad_out[c, r, s]
    return grad

# %% max_pool2d_backward: wrong[bad_input] keeps[computation, dtypes]: no check of grad_out's shape
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    grad = np.zeros(x.shape)
    for c, r, s in np.ndindex(*shape):
        window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        grad[c, r * stride + i, s * stride + j] += grad_out.flat[(c * shape[1] + r) * shape[2] + s]
    return grad

# %% max_pool2d_backward: wrong[dtypes] keeps[computation, bad_input]: keeps grad_out's integer dtype
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("bad pooling arguments")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError("grad_out must have the pooled output's shape")
    grad = np.zeros(x.shape, dtype=grad_out.dtype)
    for c, r, s in np.ndindex(*shape):
        window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        grad[c, r * stride + i, s * stride + j] += grad_out[c, r, s]
    return grad

# %% max_pool2d_backward: correct: a loop over windows, argmax in each
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3:
        raise ValueError("x must be (C, H, W)")
    if size < 1 or stride < 1:
        raise ValueError("size and stride must be at least 1")
    if size > x.shape[1] or size > x.shape[2]:
        raise ValueError("the window is larger than the maps")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError(f"grad_out must have shape {shape}, got {grad_out.shape}")
    grad = np.zeros(x.shape)
    for c, r, s in np.ndindex(*shape):
        window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        grad[c, r * stride + i, s * stride + j] += grad_out[c, r, s]
    return grad

# %% max_pool2d_backward: correct: a first-maximum mask per kernel offset
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > x.shape[1] or size > x.shape[2]:
        raise ValueError("x must be (C, H, W), size and stride at least 1, the window inside the maps")
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if grad_out.shape != (x.shape[0], out_h, out_w):
        raise ValueError("grad_out must have the shape of max_pool2d(x, size, stride)")
    parts = [x[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
             for i in range(size) for j in range(size)]   # reading order within the window
    best = np.max(parts, axis=0)
    taken = np.zeros(best.shape, dtype=bool)
    grad = np.zeros(x.shape)
    for k, part in enumerate(parts):
        first = (part == best) & ~taken
        taken |= first
        i, j = divmod(k, size)
        grad[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride] += first * grad_out
    return grad
