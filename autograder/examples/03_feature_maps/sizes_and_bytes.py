"""Hal divides with / in `conv_output_size` (a stride-2 layer gets 112.5 pixels, and both
of his layers, which use it for their output shape, fail with it) and, in
`feature_map_bytes`, counts bits instead of bytes and forgets the batch."""
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
