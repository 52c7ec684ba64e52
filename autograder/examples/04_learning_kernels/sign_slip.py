"""Fay computes the residual as target - prediction, so her gradient points uphill;
her gradient descent, built on it, climbs the loss and explodes. Her numerical check
would have caught it, had she run it."""
# %% all: solution
# %% loss_and_grad
def loss_and_grad(kernel, image, target):
    prediction = correlate_valid(image, kernel)
    if prediction.shape != np.shape(target):
        raise ValueError("target has the wrong shape")
    residual = target - prediction
    return float(np.mean(residual**2)), 2 / residual.size * correlate_valid(image, residual)
