"""Fay's maths is right everywhere, but she skipped the rules the text states: her kernels
are integer arrays or lists, she never converts images to float64 (uint8 wraps around,
float32 stays float32) and never checks her arguments. She keeps every computation part
and loses the dtypes and bad-input parts."""
# %% all: solution
# %% edge_kernel
def edge_kernel():
    return np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
# %% to_display
def to_display(response):
    m = np.abs(response).max()
    if m == 0:
        return np.full(np.shape(response), 0.5)
    return 0.5 + 0.5 * response / m
# %% box_kernel
def box_kernel(size=3):
    return np.full((size, size), 1 / size**2)
# %% gaussian_kernel
def gaussian_kernel(sigma, truncate=4.0):
    r = int(truncate * sigma + 0.5)
    x = np.arange(-r, r + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.exp(-x**2 / (2 * sigma**2))
        g = g / g.sum()
    return np.outer(g, g)
# %% separable_filter
def separable_filter(image, column_kernel, row_kernel, mode="reflect"):
    return ndi.correlate1d(ndi.correlate1d(image, column_kernel, axis=0, mode=mode), row_kernel, axis=1, mode=mode)
# %% sobel_kernels
def sobel_kernels():
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    return kx, kx.T
# %% gradient_magnitude
def gradient_magnitude(image):
    return np.hypot(ndi.sobel(image, axis=1), ndi.sobel(image, axis=0))
# %% filter_rgb
def filter_rgb(image, kernel, mode="reflect"):
    return ndi.convolve(image, np.asarray(kernel)[:, :, None], mode=mode)
# %% diagonal_edge_kernel
diagonal_edge_kernel = [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]
