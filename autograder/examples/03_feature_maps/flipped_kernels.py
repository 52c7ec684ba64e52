"""Fay kept notebook 01's `convolve` in mind and flips the kernels in both layers: her
maps are mirror images of PyTorch's. Her loops are otherwise right."""
# %% all: solution
# %% conv2d
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)[:, :, ::-1, ::-1]  # "convolution" flips
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
    out = np.empty((F, out_h, out_w))
    for f in range(F):
        for r in range(out_h):
            for s in range(out_w):
                window = padded[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[f, r, s] = (window * weights[f]).sum() + bias[f]
    return out
# %% conv2d_fast
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)[:, :, ::-1, ::-1]
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
            out += np.einsum("fc,chw->fhw", weights[:, :, i, j], part)
    return out
