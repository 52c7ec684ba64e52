"""Cleo clips signed responses to [0, 1] instead of scaling them, mixes up which Sobel
kernel is which, and pastes the explorer's emboss preset as her diagonal edge kernel,
which does not ignore flat regions."""
# %% all: solution
# %% to_display
def to_display(response):
    return np.clip(np.asarray(response, dtype=np.float64), 0.0, 1.0)
# %% sobel_kernels
def sobel_kernels():
    ky = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])
    return ky.T.copy(), ky
# %% diagonal_edge_kernel
diagonal_edge_kernel = np.array([[-2.0, -1.0, 0.0],
                                 [-1.0, 1.0, 1.0],
                                 [0.0, 1.0, 2.0]])
