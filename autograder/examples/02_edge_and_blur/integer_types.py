"""Eli types kernels as integer arrays and never converts images: his edge kernel is
int64, his gradient magnitude wraps around on uint8 photographs, and his colour filter
correlates where the seed convolves."""
# %% all: solution
# %% edge_kernel
def edge_kernel():
    return np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
# %% gradient_magnitude
def gradient_magnitude(image):
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError("image must be 2-D")
    gx = ndi.sobel(image, axis=1).astype(float)
    gy = ndi.sobel(image, axis=0).astype(float)
    return np.sqrt(gx**2 + gy**2)
# %% filter_rgb
def filter_rgb(image, kernel, mode="reflect"):
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("image must be (H, W, 3)")
    return np.stack([ndi.correlate(image[:, :, c], kernel, mode=mode) for c in range(3)], axis=2)
