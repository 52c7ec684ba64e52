"""Ivy's pooling: her `avg_pool2d` has the right numbers but checks none of its arguments
(it loses the bad-input part only), and her `max_pool2d_backward` gives the gradient to
every pixel that equals its window's maximum, so tied pixels get it twice (it loses the
computation part, and the dtypes part, whose integer maps have ties too; on random
floats without ties it would look right)."""
# %% all: solution
# %% avg_pool2d
def avg_pool2d(x, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    stride = size if stride is None else stride
    out_h, out_w = (x.shape[-2] - size) // stride + 1, (x.shape[-1] - size) // stride + 1
    total = np.zeros(x.shape[:-2] + (max(out_h, 0), max(out_w, 0)))
    for i in range(size):
        for j in range(size):
            part = x[..., i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
            if part.shape == total.shape:
                total += part
    return total / max(size * size, 1)
# %% max_pool2d_backward
def max_pool2d_backward(x, grad_out, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    stride = size if stride is None else stride
    if x.ndim != 3 or size < 1 or stride < 1 or size > min(x.shape[1:]):
        raise ValueError("x must be (C, H, W) and the window must fit")
    shape = (x.shape[0], (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    if grad_out.shape != shape:
        raise ValueError(f"grad_out must have shape {shape}")
    grad = np.zeros(x.shape)
    for c, r, s in np.ndindex(*shape):
        window = x[c, r * stride:r * stride + size, s * stride:s * stride + size]
        grad[c, r * stride:r * stride + size, s * stride:s * stride + size] += (window == window.max()) * grad_out[c, r, s]
    return grad
