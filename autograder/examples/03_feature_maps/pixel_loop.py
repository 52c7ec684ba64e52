"""Gus made the window product a matrix product but still loops over every output
pixel in `conv2d_fast` (correct numbers, far too slow: it loses the speed part only),
and his `relu` zeroes the negative values of the caller's array in place (it loses the
dtypes part, which checks that inputs are left unchanged)."""
# %% all: solution
# %% conv2d_fast
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
# %% relu
def relu(x):
    x = np.asarray(x, dtype=np.float64)
    x[x < 0] = 0
    return x
