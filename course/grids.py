"""Grids of pictures for a convolution layer: its filters and its feature maps.

A layer with F filters turns one image into F feature maps; these helpers draw a stack
of maps (or the filters themselves) as a grid, one small panel each. Signed maps are
drawn with zero as mid-grey, each on limits symmetric about zero, never clamped to
black.
"""

from __future__ import annotations

import numpy as np

__all__ = ["filter_colours", "grid_shape", "show_filters", "show_grid"]


def grid_shape(count: int, ncols: int = 8) -> tuple[int, int]:
    """Return ``(rows, cols)`` of a grid holding ``count`` panels, ``ncols`` at most per row.

    Parameters
    ----------
    count : int
        Number of panels (at least 1).
    ncols : int
        Largest number of columns.
    """
    if count < 1 or ncols < 1:
        raise ValueError(f"need at least one panel and one column, got {count} and {ncols}")
    cols = min(count, ncols)
    return -(-count // cols), cols


def _stack(maps, what: str) -> np.ndarray:
    a = np.asarray(maps, dtype=float)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[0] == 0:
        raise ValueError(f"{what} must have shape (N, H, W), got {np.shape(maps)}")
    return a


def _mosaic(tiles: np.ndarray, ncols: int, gap: int, band: int, fill) -> tuple[np.ndarray, list]:
    """Lay tiles (N, h, w[, 3]) out on one canvas; return it and each tile's top-left corner."""
    n, h, w = tiles.shape[:3]
    rows, cols = grid_shape(n, ncols)
    shape = (rows * (h + gap + band) - gap, cols * (w + gap) - gap) + tiles.shape[3:]
    canvas = np.full(shape, fill, dtype=float)
    corners = []
    for i in range(n):
        top = (i // cols) * (h + gap + band) + band
        left = (i % cols) * (w + gap)
        canvas[top:top + h, left:left + w] = tiles[i]
        corners.append((top, left))
    return canvas, corners


def _draw_mosaic(canvas, corners, titles, tile_width, size, ncols, cmap, suptitle):
    import matplotlib.pyplot as plt

    cols = min(len(corners), ncols)
    width = size * cols
    height = width * canvas.shape[0] / canvas.shape[1] + (0.4 if suptitle else 0)
    fig, ax = plt.subplots(figsize=(width, height))
    if canvas.ndim == 2:  # grey values in [0, 1], NaN between the tiles: coloured once, here
        canvas = plt.get_cmap(cmap).with_extremes(bad="white")(canvas)
    ax.imshow(canvas, interpolation="nearest")
    if titles is not None:
        for (top, left), title in zip(corners, titles, strict=True):
            ax.text(left + tile_width / 2, top - 2, title, ha="center", va="bottom", fontsize=7)
    ax.set_axis_off()
    if suptitle:
        ax.set_title(suptitle)
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005, top=0.96 if suptitle else 0.995)
    return fig


def show_grid(maps, ncols: int = 8, titles=None, signed=None, size: float = 1.4,
              cmap: str = "gray", suptitle: str | None = None, percentile: float = 99.5):
    """Draw a stack of feature maps as a grid, each on its own scale.

    The maps are laid out on one canvas (one image, fast to draw even for 64 maps).

    Parameters
    ----------
    maps : array_like
        Shape (N, H, W): N maps (a single 2-D map is also accepted).
    ncols : int
        Panels per row.
    titles : sequence of str, optional
        One short title per map.
    signed : bool, optional
        Draw each map with zero as mid-grey on limits ``(-m, m)``, ``m`` the map's
        ``percentile`` of absolute values. By default, True if any map has a negative
        value. Unsigned maps go from 0 (black) to ``m`` (white).
    size : float
        Width of one panel in inches.
    cmap : str
        Colour map ('gray' by default; 'RdBu_r' is a good diverging alternative).
    suptitle : str, optional
        A title over the whole grid.
    percentile : float
        Which percentile of a map's absolute values is drawn white (or black): 100 is
        its largest value; the default 99.5 keeps a few extreme pixels from turning the
        rest of the map grey. Values beyond are clipped, for display only.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    a = _stack(maps, "maps")
    n, h, w = a.shape
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} maps")
    if signed is None:
        signed = bool((a < 0).any())
    step = max(1, w // 128)  # the panels are small: average step x step blocks first
    if step > 1:
        a = a[:, :h - h % step, :w - w % step]
        a = a.reshape(n, h // step, step, w // step, step).mean(axis=(2, 4))
        n, h, w = a.shape
    scaled = np.empty_like(a)
    for i in range(n):
        m = float(np.percentile(np.abs(a[i]), percentile))
        m = m if m > 0 else float(np.abs(a[i]).max()) or 1.0
        scaled[i] = 0.5 + 0.5 * np.clip(a[i] / m, -1, 1) if signed else np.clip(a[i] / m, 0, 1)
    gap = max(2, w // 40)
    band = int(0.12 * w) if titles is not None else 0
    canvas, corners = _mosaic(scaled, ncols, gap, band, np.nan)
    return _draw_mosaic(canvas, corners, titles, w, size, ncols, cmap, suptitle)


def filter_colours(weights) -> np.ndarray:
    """Turn a bank of filters into small pictures: zero is mid-grey, each filter on its own scale.

    Parameters
    ----------
    weights : array_like
        Shape (F, C, kh, kw), PyTorch's layout, with C = 1 (grey) or C = 3 (red, green,
        blue weights).

    Returns
    -------
    numpy.ndarray
        Shape (F, kh, kw, 3), values in [0, 1]: ``0.5 + 0.5 * w / max|w|`` per filter, so
        a filter that adds up red looks red and one that subtracts it looks cyan.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 4 or w.shape[1] not in (1, 3):
        raise ValueError(f"weights must have shape (F, 1 or 3, kh, kw), got {w.shape}")
    scale = np.abs(w).reshape(len(w), -1).max(axis=1)
    scale[scale == 0] = 1.0
    pictures = 0.5 + 0.5 * w / scale[:, None, None, None]
    if w.shape[1] == 1:
        pictures = np.repeat(pictures, 3, axis=1)
    return pictures.transpose(0, 2, 3, 1)


def show_filters(weights, ncols: int = 8, titles=None, size: float = 0.9,
                 suptitle: str | None = None, values: bool = False, fmt: str = "{:.2f}"):
    """Draw a bank of grey or colour filters as a grid of small pictures.

    Parameters
    ----------
    weights : array_like
        Shape (F, C, kh, kw) with C = 1 or 3 (see :func:`filter_colours`).
    ncols : int
        Panels per row.
    titles : sequence of str, optional
        One short title per filter.
    size : float
        Width of one panel in inches.
    suptitle : str, optional
    values : bool
        Write each weight in its cell (grey filters, C = 1, only). A weight that rounds
        to zero is written without a minus sign.
    fmt : str
        Format of the weights (``str.format``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    pictures = filter_colours(weights)
    if values and np.shape(weights)[1] != 1:
        raise ValueError("values=True writes the weights of grey filters (C = 1); these have "
                         f"C = {np.shape(weights)[1]}")
    n, kh, kw = pictures.shape[:3]
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} filters")
    zoom = max(1, 30 // max(kh, kw))   # each weight drawn as a zoom x zoom block
    big = pictures.repeat(zoom, axis=1).repeat(zoom, axis=2)
    band = int(0.4 * big.shape[2]) if titles is not None else 0
    canvas, corners = _mosaic(big, ncols, max(2, big.shape[2] // 8), band, 1.0)
    fig = _draw_mosaic(canvas, corners, titles, big.shape[2], size, ncols, "gray", suptitle)
    if values:
        _write_weights(fig.axes[0], np.asarray(weights, dtype=float)[:, 0], pictures, corners,
                       zoom, fmt, fontsize=min(9.0, 72 * size / kw / 3.4))
    return fig


def _write_weights(ax, kernels, pictures, corners, zoom, fmt, fontsize) -> None:
    from course.plotting import format_value

    for kernel, picture, (top, left) in zip(kernels, pictures, corners, strict=True):
        tiny = 1e-9 * float(np.abs(kernel).max())
        for (r, c), v in np.ndenumerate(kernel):
            light = float(picture[r, c] @ np.array([0.299, 0.587, 0.114])) > 0.5
            ax.text(left + (c + 0.5) * zoom - 0.5, top + (r + 0.5) * zoom - 0.5,
                    format_value(v, fmt, tiny), ha="center", va="center", fontsize=fontsize,
                    color="black" if light else "white")
