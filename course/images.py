"""Images for the course: the photograph and synthetic test patterns.

Everything is local: the photograph is matplotlib's sample ``grace_hopper.jpg``
(600 x 512 pixels), the rest is synthesised. All images are ``float64`` in [0, 1].
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["checkerboard", "disk", "photo", "step_edge", "stripes"]

# ITU-R BT.601 luma weights, as used by most image libraries for RGB -> grey.
_LUMA = np.array([0.299, 0.587, 0.114])


def _check_shape(shape) -> tuple[int, int]:
    try:
        height, width = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a pair (height, width), got {shape!r}") from None
    if height < 1 or width < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    return height, width


@lru_cache(maxsize=1)
def _photo_rgb() -> np.ndarray:
    import matplotlib.cbook
    import matplotlib.image

    try:
        path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    except (OSError, ValueError) as err:  # pragma: no cover - broken matplotlib install
        raise FileNotFoundError(
            "matplotlib's sample image grace_hopper.jpg is missing: reinstall matplotlib"
        ) from err
    rgb = matplotlib.image.imread(path)
    rgb = rgb.astype(np.float64) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float64)
    rgb.setflags(write=False)
    return rgb


def photo(grey: bool = True) -> np.ndarray:
    """Return the photograph of Grace Hopper shipped with matplotlib.

    Parameters
    ----------
    grey : bool, optional
        If True (default) return a grey image of shape (600, 512); else the colour
        image of shape (600, 512, 3).

    Returns
    -------
    numpy.ndarray
        A new ``float64`` array with values in [0, 1].
    """
    rgb = _photo_rgb()
    if grey:
        return rgb @ _LUMA
    return rgb.copy()


def step_edge(shape=(32, 32), orientation: str = "vertical", position: float = 0.5) -> np.ndarray:
    """Return a dark-to-bright step edge.

    Parameters
    ----------
    shape : (int, int)
        Height and width.
    orientation : {'vertical', 'horizontal'}
        A vertical edge changes along columns (left dark, right bright); a horizontal
        edge changes along rows (top dark, bottom bright).
    position : float
        Where the edge sits, as a fraction of the width (or height).
    """
    height, width = _check_shape(shape)
    if orientation not in ("vertical", "horizontal"):
        raise ValueError(f"orientation must be 'vertical' or 'horizontal', got {orientation!r}")
    if not 0 <= position <= 1:
        raise ValueError(f"position must be between 0 and 1, got {position!r}")
    image = np.zeros((height, width))
    if orientation == "vertical":
        image[:, int(round(position * width)) :] = 1.0
    else:
        image[int(round(position * height)) :, :] = 1.0
    return image


def stripes(shape=(32, 32), period: float = 8, angle: float = 0.0) -> np.ndarray:
    """Return sinusoidal stripes.

    Parameters
    ----------
    shape : (int, int)
        Height and width.
    period : float
        Pixels from one bright stripe to the next.
    angle : float
        Direction in degrees in which the brightness changes: 0 gives vertical
        stripes (brightness changes along columns), 90 horizontal stripes.
    """
    height, width = _check_shape(shape)
    if not period > 0:
        raise ValueError(f"period must be positive, got {period!r}")
    rows, cols = np.mgrid[0:height, 0:width]
    theta = np.deg2rad(angle)
    phase = (cols * np.cos(theta) + rows * np.sin(theta)) * (2 * np.pi / period)
    return 0.5 + 0.5 * np.cos(phase)


def checkerboard(shape=(32, 32), square: int = 4) -> np.ndarray:
    """Return a black-and-white checkerboard with squares of ``square`` pixels."""
    height, width = _check_shape(shape)
    if int(square) < 1:
        raise ValueError(f"square must be at least 1 pixel, got {square!r}")
    rows, cols = np.mgrid[0:height, 0:width]
    return (((rows // int(square)) + (cols // int(square))) % 2).astype(np.float64)


def disk(shape=(32, 32), radius: float | None = None) -> np.ndarray:
    """Return a bright disk in the middle of a dark image.

    Parameters
    ----------
    shape : (int, int)
        Height and width.
    radius : float, optional
        Radius in pixels; a third of the smaller side by default.
    """
    height, width = _check_shape(shape)
    if radius is None:
        radius = min(height, width) / 3
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius!r}")
    rows, cols = np.mgrid[0:height, 0:width]
    centre_r, centre_c = (height - 1) / 2, (width - 1) / 2
    return (((rows - centre_r) ** 2 + (cols - centre_c) ** 2) <= radius**2).astype(np.float64)
