"""Cleo clips signed responses to [0, 1] instead of scaling them, mixes up which Sobel
kernel is which, and so designs a vertical-edge kernel for the horizontal one."""
# %% all: solution
# %% to_display
def to_display(response):
    return np.clip(np.asarray(response, dtype=np.float64), 0.0, 1.0)
# %% sobel_kernels
def sobel_kernels():
    ky = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])
    return ky.T.copy(), ky
# %% horizontal_edge_kernel
horizontal_edge_kernel = np.array([[-1.0, 0.0, 1.0],
                                   [-2.0, 0.0, 2.0],
                                   [-1.0, 0.0, 1.0]])
