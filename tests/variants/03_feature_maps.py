"""Tests of the tests for notebook 03: plausible wrong answers and different right ones.

Each section is graded as its own submission (the instructor's solutions with that one
cell replaced). A `wrong` one must lose that function's points; a `correct` one must
keep every point of the notebook. The slow correct `conv2d` (six nested loops, one
multiplication at a time) also checks that a slow-but-correct student stays within the
notebook's time budget.
"""

# %% conv_output_size: wrong: padding counted once
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = (size + padding - kernel_size) // stride + 1
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong: true division, no floor
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = (size + 2 * padding - kernel_size) / stride + 1
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong: forgets the + 1
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = (size + 2 * padding - kernel_size) // stride
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong: rounds up (ceil)
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if stride < 1 or padding < 0 or size < 1 or kernel_size < 1:
        raise ValueError("bad arguments")
    out = -(-(size + 2 * padding - kernel_size) // stride) + 1
    if out < 1:
        raise ValueError("the kernel does not fit")
    return out

# %% conv_output_size: wrong: no ValueError, returns 0 or less
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

# %% conv2d: wrong: convolution (flips the kernels)
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

# %% conv2d: wrong: stride applied before padding
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

# %% conv2d: wrong: bias added once per channel
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

# %% conv2d: wrong: keeps uint8, wraps around at 256
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

# %% conv2d: wrong: pads with numpy.pad (not by hand)
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

# %% conv2d_fast: wrong: still loops over pixels (vectorised over filters and channels)
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

# %% conv2d_fast: wrong: calls the loop version
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    return conv2d(x, weights, bias, stride=stride, padding=padding)

# %% conv2d_fast: wrong: channels summed in the wrong axis (filters instead)
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

# %% conv2d_fast: wrong: bias broadcast along the last axis
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

# %% conv2d_fast: wrong: stride applied before padding
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

# %% conv2d_fast: wrong: computes in float32
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

# %% conv2d_fast: wrong: convolution (kernels flipped)
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

# %% conv2d_fast: wrong: SciPy per filter and channel (not NumPy only)
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

# %% relu: wrong: changes its input in place
def relu(x):
    x = np.asarray(x, dtype=np.float64)
    x[x < 0] = 0.0  # a float64 input is not copied by asarray: the caller's array changes
    return x

# %% relu: wrong: absolute value
def relu(x):
    return np.abs(np.asarray(x, dtype=np.float64))

# %% relu: wrong: clips to [0, 1] as for display
def relu(x):
    return np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)

# %% relu: wrong: keeps the input's dtype
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

# %% feature_map_bytes: wrong: counts bits
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * np.dtype(dtype).itemsize * 8

# %% feature_map_bytes: wrong: forgets the batch
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * np.dtype(dtype).itemsize

# %% feature_map_bytes: wrong: always 4 bytes per number
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * 4

# %% feature_map_bytes: wrong: megabytes instead of bytes
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * batch * np.dtype(dtype).itemsize / 2**20

# %% feature_map_bytes: wrong: a table of two dtype names
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
