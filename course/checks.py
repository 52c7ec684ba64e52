"""Checks the notebooks' test cells use, with messages that say what to fix.

``by_hand()``
    A context manager that notices calls into SciPy, ``numpy.pad``,
    ``numpy.convolve`` and ``numpy.correlate`` made while it is active, however
    they were imported (``from scipy.ndimage import correlate as c`` included),
    and raises :class:`ByHandError` naming them.
``assert_image_close(actual, expected, name)``
    Compares two arrays and explains the difference: shape, dtype, a border-only
    mismatch (a padding problem), or the first wrong pixel.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import numpy as np

__all__ = ["ByHandError", "assert_image_close", "by_hand", "border_width"]


class ByHandError(AssertionError):
    """A function that must be written by hand called a library routine."""


def _forbidden_codes() -> dict:
    codes = {}
    for name in ("pad", "convolve", "correlate"):
        func = getattr(np, name)
        func = getattr(func, "_implementation", func)
        codes[func.__code__] = f"numpy.{name}"
    return codes


_SCIPY_DIR = os.sep + "scipy" + os.sep


@contextmanager
def by_hand(what: str = "this function"):
    """Fail if code run inside the block calls SciPy or numpy.pad/convolve/correlate.

    Parameters
    ----------
    what : str
        Name of the function under test, used in the message.

    Raises
    ------
    ByHandError
        After the block, naming the first library routine that was called.
    """
    forbidden = _forbidden_codes()
    seen: list[str] = []

    def profiler(frame, event, arg):
        if event != "call" or seen:
            return
        code = frame.f_code
        if code in forbidden:
            seen.append(forbidden[code])
        elif _SCIPY_DIR in code.co_filename:
            module = frame.f_globals.get("__name__", "scipy")
            seen.append(f"{module}.{code.co_name}")

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)
        if seen:
            raise ByHandError(
                f"{what} called {seen[0]}, but it must be written by hand with NumPy only "
                "(no SciPy, numpy.pad, numpy.convolve or numpy.correlate). "
                "Use loops or array slicing instead."
            )


def border_width(mask: np.ndarray) -> int | None:
    """Return the width of the outer frame that holds every True of ``mask``.

    ``None`` if some True lies in the interior of every frame narrower than half
    the image, 0 if ``mask`` is all False.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return 0
    for b in range(1, (min(mask.shape) + 1) // 2):
        if not mask[b:-b, b:-b].any():
            return b
    return None


def assert_image_close(actual, expected, name: str = "your result", rtol=1e-7, atol=1e-9,
                       reference: str = "the reference") -> None:
    """Assert ``actual`` equals ``expected`` up to tolerance, explaining a failure.

    Parameters
    ----------
    actual, expected : array_like
    name : str
        What ``actual`` is, for the message (e.g. "correlate(image, kernel)").
    rtol, atol : float
        As in :func:`numpy.testing.assert_allclose`.
    reference : str
        What ``expected`` is, for the message (e.g. "scipy.ndimage.correlate").
    """
    if actual is None:
        raise AssertionError(f"{name} returned None: did you forget `return`?")
    actual_arr = np.asarray(actual)
    expected_arr = np.asarray(expected)
    if actual_arr.shape != expected_arr.shape:
        raise AssertionError(
            f"{name} has shape {actual_arr.shape}, but {reference} has shape "
            f"{expected_arr.shape}."
        )
    if not np.issubdtype(actual_arr.dtype, np.number):
        raise AssertionError(f"{name} has dtype {actual_arr.dtype}; expected numbers.")
    bad = ~np.isclose(actual_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return
    count = int(bad.sum())
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    detail = (
        f"{count} of {bad.size} values differ from {reference}; the first at index {first}: "
        f"{actual_arr[first].item()!r} instead of {expected_arr[first].item()!r}."
    )
    if bad.ndim == 2 and min(bad.shape) >= 3:
        width = border_width(bad)
        if width:
            raise AssertionError(
                f"{name} differs from {reference} only in the outer {width}-pixel border: "
                f"check your padding (border mode and pad widths). {detail}"
            )
    raise AssertionError(f"{name} is wrong. {detail}")
