"""Helpers the notebooks of *Convolution from Scratch* import.

Modules
-------
images
    The photograph and synthetic test images, as float arrays in [0, 1].
plotting
    Images side by side, kernels as annotated heatmaps, signed responses.
checks
    Friendly checks used by the notebooks' visible tests.
widgets
    Interactive explorers (ipywidgets), imported on demand.

Nothing here solves an exercise: students can read all of it.
"""

from course.images import checkerboard, disk, photo, step_edge, stripes
from course.plotting import show_images, show_kernel, show_signed

__all__ = [
    "checkerboard",
    "disk",
    "photo",
    "show_images",
    "show_kernel",
    "show_signed",
    "step_edge",
    "stripes",
]
