"""Ivy's backward pass forgets that the bias has a gradient too; her training loop,
which calls it, never moves the biases, and the step check of train notices."""
# %% all: solution
# %% conv2d_backward
def conv2d_backward(x, weights, grad_out):
    import scipy.signal
    x, weights, grad_out = (np.asarray(a, dtype=float) for a in (x, weights, grad_out))
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("bad shapes")
    f, c, kh, kw = weights.shape
    if grad_out.shape != (f, x.shape[1] - kh + 1, x.shape[2] - kw + 1):
        raise ValueError("grad_out has the wrong shape")
    grad_w = np.array([[scipy.signal.correlate2d(x[ci], grad_out[fi], "valid") for ci in range(c)] for fi in range(f)])
    grad_x = np.array([sum(scipy.signal.convolve2d(grad_out[fi], weights[fi, ci], "full") for fi in range(f))
                       for ci in range(c)])
    return grad_x, grad_w, np.zeros(f)
