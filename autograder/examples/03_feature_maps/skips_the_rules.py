"""Fay's maths is right everywhere, but she skipped the rules the text states: she never
converts her inputs to float64 (integer maps stay integers, float32 stays float32) and
never checks her arguments (a window that does not fit gives an empty or wrong-shaped
answer instead of a ValueError). She keeps every computation part and loses dtypes and
bad-input parts."""
# %% all: solution
# %% conv_output_size
def conv_output_size(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1
# %% conv2d
def conv2d(x, weights, bias=None, stride=1, padding=0):
    x, weights = np.asarray(x), np.asarray(weights)
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else bias
    out_h = (x.shape[1] + 2 * padding - kh) // stride + 1
    out_w = (x.shape[2] + 2 * padding - kw) // stride + 1
    padded = np.zeros((x.shape[0], x.shape[1] + 2 * padding, x.shape[2] + 2 * padding), dtype=x.dtype)
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    out = np.zeros((n_filters, out_h, out_w), dtype=np.result_type(x, weights))
    for f in range(n_filters):
        for r in range(out_h):
            for s in range(out_w):
                window = padded[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[f, r, s] = (window * weights[f]).sum() + bias[f]
    return out
# %% conv2d_fast
def conv2d_fast(x, weights, bias=None, stride=1, padding=0):
    x, weights = np.asarray(x), np.asarray(weights)
    n_filters, channels, kh, kw = weights.shape
    bias = np.zeros(n_filters) if bias is None else np.asarray(bias)
    padded = np.zeros((x.shape[0], x.shape[1] + 2 * padding, x.shape[2] + 2 * padding), dtype=x.dtype)
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("crsij,fcij->frs", windows, weights, optimize=True) + bias[:, None, None]
# %% relu
def relu(x):
    return np.maximum(x, 0)
# %% max_pool2d
def max_pool2d(x, size=2, stride=None):
    x = np.asarray(x)
    stride = stride or size
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].max(axis=(3, 4))
# %% avg_pool2d
def avg_pool2d(x, size=2, stride=None):
    x = np.asarray(x)
    stride = stride or size
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].mean(axis=(3, 4))
# %% max_pool2d_backward
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x, grad_out = np.asarray(x), np.asarray(grad_out)
    stride = stride or size
    grad = np.zeros_like(x)
    channels, out_h, out_w = grad_out.shape
    for c in range(channels):
        for r in range(out_h):
            for s in range(out_w):
                window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
                i, j = np.unravel_index(np.argmax(window), window.shape)
                grad[c, r * stride + i, s * stride + j] += grad_out[c, r, s]
    return grad
# %% feature_map_bytes
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    return batch * filters * height * width * np.dtype(dtype).itemsize
