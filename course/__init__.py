"""Helpers the notebooks of *Convolution from Scratch* import.

Modules
-------
images
    The photograph, your own pictures (``load_image``) and synthetic test images.
plotting
    Images side by side, kernels and patches as annotated heatmaps, signed responses.
grids
    Feature maps and filter banks as grids of small pictures.
checks
    Friendly checks used by the notebooks' visible tests.
widgets
    Interactive explorers and step viewers (ipywidgets), imported on demand.

``course/README.md`` lists the API with an example for each. Nothing here solves an
exercise: students can read all of it.
"""

from course.images import as_float, checkerboard, disk, load_image, photo, step_edge, stripes
from course.plotting import show_images, show_kernel, show_signed

__all__ = [
    "as_float",
    "checkerboard",
    "disk",
    "load_image",
    "photo",
    "show_images",
    "show_kernel",
    "show_signed",
    "step_edge",
    "stripes",
]
