"""Fay's maths is right everywhere, but she skipped the rules the text states: she never
converts her inputs to float64 and never checks her arguments (a target of the wrong
shape broadcasts, eps <= 0 is not refused, fit_kernel with steps=0 raises nothing).
She keeps every computation part and scores 16/22: she loses the dtypes parts of mse
and numerical_gradient and the bad-input parts of mse, loss_and_grad,
numerical_gradient and fit_kernel; the provided correlate_valid converts to float64 for
her, and sliding_window_view and lstsq refuse bad shapes for least_squares_kernel."""
# %% all: solution
# %% mse
def mse(prediction, target):
    """Return the mean squared difference of two arrays of the same shape."""
    return float(np.mean((prediction - target) ** 2))
# %% loss_and_grad
def loss_and_grad(kernel, image, target):
    """Return (loss, grad) of the mean squared error of correlate_valid(image, kernel)."""
    residual = correlate_valid(image, kernel) - target
    loss = float(np.mean(residual ** 2))
    grad = 2 / residual.size * correlate_valid(image, residual)
    return loss, grad
# %% numerical_gradient
def numerical_gradient(f, x, eps=1e-6):
    """Return the central-difference gradient of the scalar function f at x."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        f_plus = f(x)
        x[index] = old - eps
        f_minus = f(x)
        x[index] = old
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad
# %% fit_kernel
def fit_kernel(image, target, kernel_size=3, lr=0.1, steps=500, seed=0):
    """Fit a kernel_size x kernel_size kernel by gradient descent; return (kernel, losses)."""
    kernel = np.random.default_rng(seed).standard_normal((kernel_size, kernel_size)) * 0.1
    losses = []
    for _ in range(steps):
        loss, grad = loss_and_grad(kernel, image, target)
        losses.append(loss)
        kernel = kernel - lr * grad
    return kernel, np.array(losses)
# %% least_squares_kernel
def least_squares_kernel(image, target, kernel_size=3):
    """Return the kernel that minimises the squared error, by linear least squares."""
    X = sliding_window_view(image, (kernel_size, kernel_size)).reshape(-1, kernel_size * kernel_size)
    k = scipy.linalg.lstsq(X, target.ravel())[0]
    return k.reshape(kernel_size, kernel_size)
