"""Pictures for the course: images side by side, kernels, signed responses.

Signed filter responses (edges, differences) are never clamped to black: zero is
drawn mid-grey, negative darker, positive brighter, on limits symmetric about zero.
"""

from __future__ import annotations

import numpy as np

__all__ = ["show_images", "show_kernel", "show_signed", "signed_limits"]


def signed_limits(image) -> tuple[float, float]:
    """Return ``(-m, m)`` with ``m`` the largest absolute value (1 if all zero)."""
    m = float(np.max(np.abs(image))) if np.size(image) else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def show_images(*images, titles=None, cmap="gray", size: float = 4, signed=None, axes=None):
    """Plot images side by side.

    Parameters
    ----------
    images : array_like
        2-D grey or (H, W, 3) colour images.
    titles : sequence of str, optional
        One title per image.
    cmap : str
        Colour map for grey images.
    size : float
        Height of each panel in inches.
    signed : sequence of bool, optional
        Per image: draw with zero as mid-grey on symmetric limits. By default, a grey
        image with negative values is drawn signed; others on [0, 1] if they fit.
    axes : sequence of matplotlib Axes, optional
        Draw into these instead of a new figure.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not images:
        raise ValueError("show_images needs at least one image")
    arrays = [np.asarray(im) for im in images]
    for i, a in enumerate(arrays):
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
            raise ValueError(f"image {i} has shape {a.shape}: expected (H, W) or (H, W, 3)")
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"got {len(titles)} titles for {len(arrays)} images")
    if signed is None:
        signed = [a.ndim == 2 and a.size > 0 and float(a.min()) < 0 for a in arrays]
    if axes is None:
        _, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays), size), squeeze=False)
        axes = axes[0]
    for i, (ax, a) in enumerate(zip(axes, arrays, strict=False)):
        if a.ndim == 3:
            ax.imshow(np.clip(a, 0, 1), interpolation="nearest")
        elif signed[i]:
            lo, hi = signed_limits(a)
            ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        else:
            lo, hi = (0.0, 1.0) if a.size and a.min() >= 0 and a.max() <= 1 else (None, None)
            ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i])
        ax.set_axis_off()
    return list(axes)


def show_signed(response, title=None, cmap="RdBu_r", ax=None, colorbar: bool = True, size=4):
    """Plot a signed response with zero in the middle of a diverging colour map.

    Parameters
    ----------
    response : array_like
        2-D array of any sign.
    title : str, optional
    cmap : str
        A diverging colour map ('RdBu_r' by default; 'gray' gives zero as mid-grey).
    ax : matplotlib.axes.Axes, optional
    colorbar : bool
        Add a colour bar.
    """
    import matplotlib.pyplot as plt

    a = np.asarray(response, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"response must be 2-D, got shape {a.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    lo, hi = signed_limits(a)
    im = ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
    ax.set_axis_off()
    return ax


def show_kernel(kernel, title=None, ax=None, fmt=None, cmap="RdBu_r", size=None):
    """Draw a kernel as a heatmap with its numbers written in each cell.

    Parameters
    ----------
    kernel : array_like
        2-D array (1-D is drawn as one row).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
    fmt : str, optional
        Format of the numbers; chosen from the values by default ('{:g}' style).
    cmap : str
        Diverging colour map, centred on zero.
    """
    import matplotlib.pyplot as plt

    k = np.asarray(kernel, dtype=float)
    if k.ndim == 1:
        k = k[None, :]
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"kernel must be a non-empty 2-D array, got shape {np.shape(kernel)}")
    if ax is None:
        side = size or max(1.8, 0.6 * max(k.shape))
        _, ax = plt.subplots(figsize=(side * k.shape[1] / max(k.shape), side * k.shape[0] / max(k.shape)))
    lo, hi = signed_limits(k)
    ax.imshow(k, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    if k.size <= 121:
        for (r, c), v in np.ndenumerate(k):
            text = fmt.format(v) if fmt else f"{v:.3g}"
            light = abs(v) > 0.6 * hi
            ax.text(c, r, text, ha="center", va="center", fontsize=9,
                    color="white" if light else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
