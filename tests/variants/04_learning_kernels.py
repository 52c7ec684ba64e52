"""Tests of the tests for notebook 04: plausible wrong answers and different right ones.

Each section is graded as its own submission (the instructor's solutions with that one
cell replaced). A `wrong` one must lose that function's points, in each part named in
brackets, and keep every point of the parts named in `keeps[...]`; a `correct` one must
keep every point of the notebook. The notebook's readonly cell provides `correlate_valid`
(valid cross-correlation, stride 1), `EDGE_KERNEL` and `BOX_KERNEL`.
"""

# %% mse: wrong[computation]: sum instead of mean
def mse(prediction, target):
    prediction, target = np.asarray(prediction, float), np.asarray(target, float)
    if prediction.shape != target.shape:
        raise ValueError("shapes differ")
    return float(np.sum((prediction - target) ** 2))

# %% mse: wrong[computation]: root mean square
def mse(prediction, target):
    prediction, target = np.asarray(prediction, float), np.asarray(target, float)
    if prediction.shape != target.shape:
        raise ValueError("shapes differ")
    return float(np.sqrt(np.mean((prediction - target) ** 2)))

# %% mse: wrong[dtypes] keeps[computation, bad_input]: uint8 wrap-around
def mse(prediction, target):
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError("shapes differ")
    return float(np.mean((prediction - target) ** 2))

# %% mse: wrong[bad_input] keeps[computation, dtypes]: broadcasts instead of checking shapes
def mse(prediction, target):
    return float(np.mean((np.asarray(prediction, float) - np.asarray(target, float)) ** 2))

# %% mse: correct: einsum over the flattened difference
def mse(prediction, target):
    if np.shape(prediction) != np.shape(target):
        raise ValueError(f"shapes {np.shape(prediction)} and {np.shape(target)} differ")
    d = np.subtract(prediction, target, dtype=np.float64).ravel()
    return float(np.einsum("i,i->", d, d) / d.size)

# %% loss_and_grad: wrong[computation]: gradient with the wrong sign
def loss_and_grad(kernel, image, target):
    image, kernel, target = (np.asarray(a, float) for a in (image, kernel, target))
    prediction = correlate_valid(image, kernel)
    if prediction.shape != target.shape:
        raise ValueError("target has the wrong shape")
    residual = target - prediction
    return float(np.mean(residual**2)), 2 / residual.size * correlate_valid(image, residual)

# %% loss_and_grad: wrong[computation]: missing the 2/N factor
def loss_and_grad(kernel, image, target):
    image, kernel, target = (np.asarray(a, float) for a in (image, kernel, target))
    prediction = correlate_valid(image, kernel)
    if prediction.shape != target.shape:
        raise ValueError("target has the wrong shape")
    residual = prediction - target
    return float(np.mean(residual**2)), correlate_valid(image, residual)

# %% loss_and_grad: wrong[computation]: 1/N without the 2
def loss_and_grad(kernel, image, target):
    image, kernel, target = (np.asarray(a, float) for a in (image, kernel, target))
    prediction = correlate_valid(image, kernel)
    if prediction.shape != target.shape:
        raise ValueError("target has the wrong shape")
    residual = prediction - target
    return float(np.mean(residual**2)), correlate_valid(image, residual) / residual.size

# %% loss_and_grad: wrong[computation]: N is the image size, not the output size
def loss_and_grad(kernel, image, target):
    image, kernel, target = (np.asarray(a, float) for a in (image, kernel, target))
    prediction = correlate_valid(image, kernel)
    if prediction.shape != target.shape:
        raise ValueError("target has the wrong shape")
    residual = prediction - target
    return float(np.mean(residual**2)), 2 / image.size * correlate_valid(image, residual)

# %% loss_and_grad: wrong[computation]: convolution instead of correlation in the gradient
def loss_and_grad(kernel, image, target):
    import scipy.signal
    image, kernel, target = (np.asarray(a, float) for a in (image, kernel, target))
    prediction = correlate_valid(image, kernel)
    if prediction.shape != target.shape:
        raise ValueError("target has the wrong shape")
    residual = prediction - target
    grad = 2 / residual.size * scipy.signal.convolve2d(image, residual, mode="valid")
    return float(np.mean(residual**2)), grad

# %% loss_and_grad: wrong[computation]: the model convolves instead of correlating
def loss_and_grad(kernel, image, target):
    image, kernel, target = (np.asarray(a, float) for a in (image, kernel, target))
    prediction = correlate_valid(image, kernel[::-1, ::-1])
    if prediction.shape != target.shape:
        raise ValueError("target has the wrong shape")
    residual = prediction - target
    return float(np.mean(residual**2)), 2 / residual.size * correlate_valid(image, residual)

# %% loss_and_grad: correct: sliding windows and einsum
def loss_and_grad(kernel, image, target):
    from numpy.lib.stride_tricks import sliding_window_view as windows
    image = np.asarray(image, np.float64)
    kernel = np.asarray(kernel, np.float64)
    target = np.asarray(target, np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("kernel must be 2-D and fit inside the 2-D image")
    patches = windows(image, kernel.shape)  # (H', W', kh, kw)
    if patches.shape[:2] != target.shape:
        raise ValueError(f"target must have shape {patches.shape[:2]}")
    residual = np.einsum("rcij,ij->rc", patches, kernel) - target
    grad = 2.0 / residual.size * np.einsum("rcij,rc->ij", patches, residual)
    return float(np.mean(residual**2)), grad

# %% loss_and_grad: correct: FFT-based correlation
def loss_and_grad(kernel, image, target):
    from scipy.signal import fftconvolve
    image = np.asarray(image, np.float64)
    kernel = np.asarray(kernel, np.float64)
    target = np.asarray(target, np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("kernel must be 2-D and fit inside the 2-D image")
    prediction = fftconvolve(image, kernel[::-1, ::-1], mode="valid")  # correlation = convolution with the flip
    if prediction.shape != target.shape:
        raise ValueError(f"target must have shape {prediction.shape}")
    residual = prediction - target
    grad = 2.0 / residual.size * fftconvolve(image, residual[::-1, ::-1], mode="valid")
    return float(np.mean(residual**2)), grad

# %% loss_and_grad: correct: loop over the kernel entries
def loss_and_grad(kernel, image, target):
    image = np.array(image, dtype=float)
    kernel = np.array(kernel, dtype=float)
    target = np.array(target, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("2-D arrays please")
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    if oh < 1 or ow < 1 or target.shape != (oh, ow):
        raise ValueError("target shape does not match the valid output")
    prediction = np.zeros((oh, ow))
    for i in range(kh):
        for j in range(kw):
            prediction += kernel[i, j] * image[i:i + oh, j:j + ow]
    residual = prediction - target
    grad = np.zeros_like(kernel)
    for i in range(kh):
        for j in range(kw):
            grad[i, j] = 2 * np.sum(residual * image[i:i + oh, j:j + ow]) / residual.size
    return np.mean(residual**2), grad

# %% numerical_gradient: wrong[computation]: one-sided (forward) difference
def numerical_gradient(f, x, eps=1e-6):
    if eps <= 0:
        raise ValueError("eps must be positive")
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    f0 = f(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        grad[idx] = (f(x) - f0) / eps
        x[idx] = old
    return grad

# %% numerical_gradient: wrong[dtypes] keeps[computation, bad_input]: perturbs the caller's x and does not restore it
def numerical_gradient(f, x, eps=1e-6):
    if eps <= 0:
        raise ValueError("eps must be positive")
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(np.shape(x)):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= 2 * eps
        f_minus = f(x)
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad

# %% numerical_gradient: wrong[computation] keeps[dtypes, bad_input]: ignores the eps argument
def numerical_gradient(f, x, eps=1e-6):
    if eps <= 0:
        raise ValueError("eps must be positive")
    h = 1e-5
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad

# %% numerical_gradient: wrong[dtypes] keeps[computation, bad_input]: copies x but keeps its dtype
def numerical_gradient(f, x, eps=1e-6):
    if eps <= 0:
        raise ValueError("eps must be positive")
    x = np.copy(x)
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad

# %% numerical_gradient: correct: new arrays from unit vectors, never touching x
def numerical_gradient(f, x, eps=1e-6):
    if not eps > 0:
        raise ValueError("eps must be positive")
    x = np.asarray(x, dtype=np.float64)
    basis = np.eye(x.size).reshape((x.size,) + x.shape)
    values = [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in basis]
    return np.array(values, dtype=np.float64).reshape(x.shape)

# %% numerical_gradient: correct: flat index on a float copy
def numerical_gradient(f, x, eps=1e-6):
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    work = np.array(x, dtype=np.float64, copy=True)
    flat = work.reshape(-1)  # a view of work
    grad = np.empty(flat.size)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        up = f(work)
        flat[k] = saved - eps
        down = f(work)
        flat[k] = saved
        grad[k] = (up - down) / (2 * eps)
    return grad.reshape(work.shape)

# %% fit_kernel: wrong[computation]: returns the initial kernel
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    kernel = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    current = kernel
    losses = []
    for _ in range(steps):
        loss, grad = loss_and_grad(current, image, target)
        losses.append(loss)
        current = current - lr * grad
    return kernel, np.array(losses)

# %% fit_kernel: wrong[computation]: steps uphill (kernel + lr * grad)
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    kernel = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    losses = []
    for _ in range(steps):
        loss, grad = loss_and_grad(kernel, image, target)
        losses.append(loss)
        kernel = kernel + lr * grad
    return kernel, np.array(losses)

# %% fit_kernel: wrong[steps] keeps[computation, bad_input]: unseeded random start
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    kernel = np.random.standard_normal((kernel_size, kernel_size)) * 0.1
    losses = []
    for _ in range(steps):
        loss, grad = loss_and_grad(kernel, image, target)
        losses.append(loss)
        kernel = kernel - lr * grad
    return kernel, np.array(losses)

# %% fit_kernel: wrong[steps]: ignores lr (always 0.1)
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    kernel = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    losses = []
    for _ in range(steps):
        loss, grad = loss_and_grad(kernel, image, target)
        losses.append(loss)
        kernel = kernel - 0.1 * grad
    return kernel, np.array(losses)

# %% fit_kernel: wrong[steps]: one step too few (range(steps - 1))
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    kernel = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    losses = []
    for _ in range(max(steps - 1, 0)):
        loss, grad = loss_and_grad(kernel, image, target)
        losses.append(loss)
        kernel = kernel - lr * grad
    return kernel, np.array(losses)

# %% fit_kernel: correct: while loop, in-place update, own loss bookkeeping
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image = np.array(image, dtype=np.float64)
    target = np.array(target, dtype=np.float64)
    out_shape = (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1)
    if kernel_size < 1 or min(out_shape) < 1 or target.shape != out_shape:
        raise ValueError(f"target must have shape {out_shape} for a {kernel_size}x{kernel_size} kernel")
    rng = np.random.default_rng(seed)
    kernel = 0.1 * rng.standard_normal(size=(kernel_size, kernel_size))
    losses = np.empty(steps, dtype=np.float64)
    step = 0
    while step < steps:
        loss, grad = loss_and_grad(kernel, image, target)
        losses[step] = loss
        kernel -= lr * grad
        step += 1
    return kernel, losses

# %% least_squares_kernel: wrong[computation]: reshapes the solution column by column (transposed)
def least_squares_kernel(image, target, kernel_size=3):
    from numpy.lib.stride_tricks import sliding_window_view
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    X = sliding_window_view(image, (kernel_size, kernel_size)).reshape(-1, kernel_size**2)
    return scipy.linalg.lstsq(X, target.ravel())[0].reshape(kernel_size, kernel_size, order="F")

# %% least_squares_kernel: wrong[computation]: convolution patches (flipped kernel)
def least_squares_kernel(image, target, kernel_size=3):
    from numpy.lib.stride_tricks import sliding_window_view
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    X = sliding_window_view(image, (kernel_size, kernel_size))[:, :, ::-1, ::-1].reshape(-1, kernel_size**2)
    return scipy.linalg.lstsq(X, target.ravel())[0].reshape(kernel_size, kernel_size)

# %% least_squares_kernel: wrong[computation]: target flattened column by column
def least_squares_kernel(image, target, kernel_size=3):
    from numpy.lib.stride_tricks import sliding_window_view
    image, target = np.asarray(image, float), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    X = sliding_window_view(image, (kernel_size, kernel_size)).reshape(-1, kernel_size**2)
    return scipy.linalg.lstsq(X, target.T.ravel())[0].reshape(kernel_size, kernel_size)

# %% least_squares_kernel: wrong[dtypes] keeps[computation, bad_input]: normal equations in the image's own dtype (uint8 overflow)
def least_squares_kernel(image, target, kernel_size=3):
    from numpy.lib.stride_tricks import sliding_window_view
    image, target = np.asarray(image), np.asarray(target, float)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    X = sliding_window_view(image, (kernel_size, kernel_size)).reshape(-1, kernel_size**2)
    return np.linalg.solve(X.T @ X, X.T @ target.ravel()).reshape(kernel_size, kernel_size)

# %% least_squares_kernel: correct: normal equations in float64
def least_squares_kernel(image, target, kernel_size=3):
    image = np.asarray(image, np.float64)
    target = np.asarray(target, np.float64)
    k = kernel_size
    oh, ow = image.shape[0] - k + 1, image.shape[1] - k + 1
    if oh < 1 or ow < 1 or target.shape != (oh, ow):
        raise ValueError(f"target must have shape {(oh, ow)}")
    X = np.stack([image[i:i + oh, j:j + ow].ravel() for i in range(k) for j in range(k)], axis=1)
    return np.linalg.solve(X.T @ X, X.T @ target.ravel()).reshape(k, k)

# %% least_squares_kernel: correct: pseudo-inverse
def least_squares_kernel(image, target, kernel_size=3):
    from numpy.lib.stride_tricks import sliding_window_view
    image = np.asarray(image, dtype=float)
    target = np.asarray(target, dtype=float)
    if image.ndim != 2 or kernel_size > min(image.shape):
        raise ValueError("kernel does not fit")
    windows = sliding_window_view(image, (kernel_size, kernel_size))
    if windows.shape[:2] != target.shape:
        raise ValueError("target has the wrong shape")
    X = windows.reshape(-1, kernel_size * kernel_size)
    return (np.linalg.pinv(X) @ target.reshape(-1)).reshape(kernel_size, kernel_size)

# %% loss_and_grad: wrong[dtypes, bad_input] keeps[computation]: right maths with scipy, no conversion (float32 stays float32), no shape check
def loss_and_grad(kernel, image, target):
    import scipy.signal
    residual = scipy.signal.correlate2d(image, kernel, mode="valid") - target
    return float(np.mean(residual**2)), 2 / residual.size * scipy.signal.correlate2d(image, residual, mode="valid")

# %% loss_and_grad: wrong[dtypes] keeps[computation, bad_input]: subtracts the prediction from the caller's target in place
def loss_and_grad(kernel, image, target):
    prediction = correlate_valid(image, kernel)
    if prediction.shape != np.shape(target):
        raise ValueError("target has the wrong shape")
    residual = np.asarray(target, dtype=np.float64)
    residual -= prediction
    residual *= -1.0
    return float(np.mean(residual**2)), 2 / residual.size * correlate_valid(image, residual)

# %% numerical_gradient: wrong[bad_input] keeps[computation, dtypes]: no check of eps
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad

# %% fit_kernel: wrong[bad_input] keeps[computation, steps, dtypes]: leaves the shape check to loss_and_grad (steps=0 passes a bad target)
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    kernel = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    losses = np.zeros(steps)
    for step in range(steps):
        losses[step], grad = loss_and_grad(kernel, image, target)
        kernel = kernel - lr * grad
    return kernel, losses

# %% fit_kernel: wrong[dtypes] keeps[computation, steps, bad_input]: starts from a kernel in the image's dtype
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    image, target = np.asarray(image), np.asarray(target)
    if target.shape != (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    kernel = (np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1).astype(image.dtype)
    losses = np.zeros(steps)
    for step in range(steps):
        losses[step], grad = loss_and_grad(kernel, image, target)
        kernel = kernel - lr * grad
    return kernel, losses

# %% least_squares_kernel: wrong[bad_input] keeps[computation, dtypes]: checks the shape with assert instead of raising ValueError
def least_squares_kernel(image, target, kernel_size=3):
    from numpy.lib.stride_tricks import sliding_window_view
    image, target = np.asarray(image, float), np.asarray(target, float)
    assert target.shape == (image.shape[0] - kernel_size + 1, image.shape[1] - kernel_size + 1), "bad target"
    X = sliding_window_view(image, (kernel_size, kernel_size)).reshape(-1, kernel_size**2)
    return scipy.linalg.lstsq(X, target.ravel())[0].reshape(kernel_size, kernel_size)
