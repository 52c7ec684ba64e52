"""Gus takes the textbook's one-sided difference for the numerical gradient and forgets
that uint8 images wrap around in mse."""
# %% all: solution
# %% mse
def mse(prediction, target):
    if np.shape(prediction) != np.shape(target):
        raise ValueError("shapes differ")
    return float(np.mean((np.asarray(prediction) - np.asarray(target)) ** 2))
# %% numerical_gradient
def numerical_gradient(f, x, eps=1e-6):
    if eps <= 0:
        raise ValueError("eps must be positive")
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    f0 = f(x)
    for idx in np.ndindex(x.shape):
        bumped = x.copy()
        bumped[idx] += eps
        grad[idx] = (f(bumped) - f0) / eps
    return grad
