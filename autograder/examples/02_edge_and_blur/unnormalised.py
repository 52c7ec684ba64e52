"""Dan forgets that a blur's weights must sum to 1: his box is nine 1s, his Gaussian
uses the continuous formula's 1 / (2 pi sigma^2) and cuts its radius off without
rounding. Everything else is right."""
# %% all: solution
# %% box_kernel
def box_kernel(size=3):
    if size < 1 or int(size) != size:
        raise ValueError("size must be a positive integer")
    return np.ones((int(size), int(size)))
# %% gaussian_kernel
def gaussian_kernel(sigma, truncate=4.0):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    r = int(truncate * sigma)
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return np.exp(-(x**2 + y**2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)
