"""Hal divides with / in `conv_output_size` (a stride-2 layer gets 112.5 pixels; his
`conv2d`, which uses it for its output shape, fails with it; `conv2d_fast`, which uses
it only to check the layer, loses its bad-input part: stride 0 divides by zero before
his check) and, in `feature_map_bytes`, counts bits instead of bytes, forgets the batch
and returns NumPy integers as they come."""
# %% all: solution
# %% conv_output_size
def conv_output_size(size, kernel_size, stride=1, padding=0):
    out = (size + 2 * padding - kernel_size) / stride + 1
    if out < 1 or stride < 1 or padding < 0:
        raise ValueError("impossible layer")
    return out
# %% feature_map_bytes
def feature_map_bytes(height, width, filters, dtype="float32", batch=1):
    if min(height, width, filters, batch) < 1:
        raise ValueError("sizes must be positive")
    return height * width * filters * np.dtype(dtype).itemsize * 8
