"""Images for the course: the photograph, the student's own pictures, synthetic patterns.

Everything is local: the photograph is matplotlib's sample ``grace_hopper.jpg``
(600 x 512 pixels), the patterns are synthesised, and :func:`load_image` reads a PNG or
JPEG the student has (with Pillow, which matplotlib installs). The photograph and the
patterns are ``float64`` in [0, 1]; :func:`load_image` returns ``uint8`` as the file holds
it, and :func:`as_float` turns any of them into ``float64`` in [0, 1].
"""

from __future__ import annotations

import io
import os
from functools import lru_cache

import numpy as np

__all__ = ["as_float", "checkerboard", "disk", "load_image", "photo", "step_edge", "stripes"]

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


def _describe_source(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"the {len(source)} bytes given"
    return "the file given"


def load_image(source, grey: bool = False, max_side: int | None = None) -> np.ndarray:
    """Read a PNG or JPEG picture (a file, its bytes, or an open file) as a uint8 array.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
        Where the picture is: a path, the file's bytes (e.g. from an upload), or an
        open binary file.
    grey : bool, optional
        Return the grey version (ITU-R 601 luma, as :func:`photo`) of shape (H, W);
        by default the colour picture of shape (H, W, 3).
    max_side : int, optional
        Shrink the picture (keeping its proportions) so that neither side is longer
        than this many pixels. Smaller pictures are not enlarged.

    Returns
    -------
    numpy.ndarray
        ``uint8``, (H, W, 3) or (H, W). The camera's orientation (EXIF) is applied, so
        the array is the right way up; transparent pixels are put on white.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        The file is not a picture Pillow can read (with a one-line reason), or
        ``max_side`` is not a positive integer.

    Examples
    --------
    >>> mine = load_image("my_photo.jpg", grey=True, max_side=600)  # doctest: +SKIP
    >>> as_float(mine).max() <= 1.0                                # doctest: +SKIP
    True
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if max_side is not None and (isinstance(max_side, bool) or not isinstance(max_side, int)
                                 or max_side < 1):
        raise ValueError(f"max_side must be a positive whole number of pixels, got {max_side!r}")
    what = _describe_source(source)
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise FileNotFoundError(f"no image file at {os.fspath(source)!r}: check the name "
                                    "and the folder (the notebook's folder is the current one)")
        stream = source
    elif isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ValueError("the image is empty (0 bytes): upload or choose the file again")
        stream = io.BytesIO(bytes(source))
    elif hasattr(source, "read"):
        stream = source
    else:
        raise ValueError(f"load_image needs a file path, the file's bytes or an open file, "
                         f"got {type(source).__name__}")
    try:
        with Image.open(stream) as im:
            if max_side is not None and im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))  # decode at a reduced scale: faster
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            elif im.mode.startswith("I;16") or im.mode in ("I", "F"):
                a = np.asarray(im, dtype=np.float64)
                top = float(a.max()) or 1.0
                im = Image.fromarray((a * (255.0 / top) + 0.5).clip(0, 255).astype(np.uint8))
            im = im.convert("L" if grey else "RGB")
            if max_side is not None and max(im.size) > max_side:
                im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return np.array(im, dtype=np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError) as err:
        reason = ("it is too large to be safe to open" if isinstance(err, Image.DecompressionBombError)
                  else "it is not a PNG or JPEG picture")
        raise ValueError(f"could not read {what} as an image: {reason}") from None
    except (OSError, SyntaxError, EOFError) as err:  # truncated or corrupt data
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"could not read {what} as an image: {reason}") from None


def as_float(image) -> np.ndarray:
    """Return an image as a new ``float64`` array in [0, 1].

    ``uint8`` (and ``bool``) images are divided by 255 (by 1); other integer images by
    255 when their values fit in 0-255, else by their largest value; float images are
    returned as they are (a copy).

    Parameters
    ----------
    image : array_like
        A grey (H, W) or colour (H, W, 3) image of any real dtype.

    Returns
    -------
    numpy.ndarray
    """
    a = np.asarray(image)
    if a.dtype == np.bool_:
        return a.astype(np.float64)
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    if np.issubdtype(a.dtype, np.integer):
        top = int(a.max()) if a.size else 0
        return a.astype(np.float64) / (255.0 if top <= 255 else float(top))
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"an image must hold real numbers, got dtype {a.dtype}")
    return a.astype(np.float64, copy=True)


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
