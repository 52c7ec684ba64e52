"""Hal uses scipy.signal.convolve2d wherever he needs a correlation: his gradient and
his least-squares patches come out flipped. His fit still lands on the symmetric edge
and box kernels, and he returns the kernel he started from."""
# %% all: solution
# %% loss_and_grad
def loss_and_grad(kernel, image, target):
    import scipy.signal
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    prediction = correlate_valid(image, kernel)
    if prediction.shape != np.shape(target):
        raise ValueError("target has the wrong shape")
    residual = prediction - target
    return float(np.mean(residual**2)), 2 / residual.size * scipy.signal.convolve2d(image, residual, mode="valid")
# %% fit_kernel
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    if np.shape(target) != (np.shape(image)[0] - kernel_size + 1, np.shape(image)[1] - kernel_size + 1):
        raise ValueError("target has the wrong shape")
    start = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    kernel, losses = start, []
    for _ in range(steps):
        loss, grad = loss_and_grad(kernel, image, target)
        losses.append(loss)
        kernel = kernel - lr * grad
    return start, np.array(losses)
# %% least_squares_kernel
def least_squares_kernel(image, target, kernel_size=3):
    image = np.asarray(image, float)
    k = kernel_size
    oh, ow = image.shape[0] - k + 1, image.shape[1] - k + 1
    if np.shape(target) != (oh, ow):
        raise ValueError("target has the wrong shape")
    X = np.stack([image[i:i + oh, j:j + ow].ravel() for i in range(k) for j in range(k)][::-1], axis=1)
    return scipy.linalg.lstsq(X, np.ravel(target))[0].reshape(k, k)
