"""Pictures for the course: images side by side, kernels and patches, signed responses.

Signed filter responses (edges, differences) are never clamped to black: zero is drawn
mid-grey, negative darker, positive brighter, on limits symmetric about zero. The limit
is *robust*: a percentile of the absolute values (99.5 by default), so that a few extreme
pixels do not turn everything else grey, and the figure says which limit it used.
``percentile=100`` gives the max-abs scale of notebook 02's ``to_display``.

``show_signed(response, ...)``
    One signed response, with a colour bar, the limit written under it, and an optional
    zoomed crop beside it.
``show_images(*images, ...)``
    Images side by side (grey, colour, signed).
``show_kernel(kernel, ..., kind="kernel" | "patch")``
    A small array as a heatmap with its numbers: kernels diverging, image patches grey.
``format_value(value, fmt=None)``
    A number as text, never "-0".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["SIGNED_CMAP", "format_value", "limit_note", "show_images", "show_kernel",  # noqa: F822
           "show_signed", "signed_limits"]  # SIGNED_CMAP: made on first use, by __getattr__

# The signed colour map, from -1 to +1: dark blue, mid-grey at 0, light orange. Its
# brightness rises steadily (about L* 12 -> 53 -> 92), so it reads like a grey scale with
# the sign added as hue, and a printout in grey still shows it.
_SIGNED_STOPS = [
    (0.00, (0.02, 0.09, 0.30)),
    (0.25, (0.16, 0.33, 0.62)),
    (0.50, (0.50, 0.50, 0.50)),
    (0.75, (0.86, 0.58, 0.33)),
    (1.00, (1.00, 0.93, 0.74)),
]


def _signed_cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("course_signed", _SIGNED_STOPS, N=256)


def __getattr__(name: str):
    # SIGNED_CMAP is built on first use: importing course does not import matplotlib.
    if name == "SIGNED_CMAP":
        return globals().setdefault("SIGNED_CMAP", _signed_cmap())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cmap(cmap):
    if cmap is None or cmap == "signed":
        return globals().get("SIGNED_CMAP") or __getattr__("SIGNED_CMAP")
    return cmap


# -- numbers ---------------------------------------------------------------------------

_MANTISSA = re.compile(r"[0-9.]+")


def format_value(value, fmt: str | None = None, tiny: float = 0.0) -> str:
    """Format a number for a figure, writing a value that rounds to zero without a minus.

    Parameters
    ----------
    value : float
        The number.
    fmt : str, optional
        A ``str.format`` pattern (``"{:.2f}"``) or a ``%`` pattern (``"%.2f"``); three
        significant digits (``"{:.3g}"``) by default.
    tiny : float
        Values with ``abs(value) <= tiny`` are written as zero (rounding errors such as
        ``8.9e-16`` in a kernel that should hold 0).

    Returns
    -------
    str
        ``format_value(-0.001, "{:.2f}")`` is ``"0.00"``, never ``"-0.00"``.
    """
    v = float(value)
    if abs(v) <= tiny or v == 0:
        v = 0.0
    if fmt is None:
        text = f"{v:.3g}"
    elif "{" in fmt:
        text = fmt.format(v)
    elif "%" in fmt:
        text = fmt % v
    else:
        return fmt  # a constant, e.g. " " to draw no numbers
    minus = text.find("-")
    if minus >= 0 and (minus == 0 or not text[minus - 1].isalnum()):
        mantissa = re.split(r"[eE]", text[minus + 1:], maxsplit=1)[0]
        digits = "".join(_MANTISSA.findall(mantissa))
        if digits and not any(ch in "123456789" for ch in digits):
            text = text[:minus] + text[minus + 1:]
    return text


def _ordinal(p: float) -> str:
    text = f"{p:g}"
    if "." in text:
        return text + "th"
    n = int(p)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _check_percentile(percentile) -> float:
    p = float(percentile)
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile!r}")
    return p


def signed_limits(image, percentile: float = 100.0) -> tuple[float, float]:
    """Return ``(-m, m)``, ``m`` the ``percentile`` of the absolute values.

    Parameters
    ----------
    image : array_like
        Values of any sign (NaN and infinite values are ignored).
    percentile : float
        100 (default) gives the largest absolute value; 99.5 leaves out the extreme
        0.5 % of pixels. If the percentile is 0 (a sparse response) the largest value is
        used, and ``(-1, 1)`` if everything is zero.

    Returns
    -------
    tuple of float
    """
    p = _check_percentile(percentile)
    a = np.abs(np.asarray(image, dtype=float)).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return (-1.0, 1.0)
    m = float(a.max()) if p >= 100 else float(np.percentile(a, p))
    if m <= 0:
        m = float(a.max())
    return (-m, m) if m > 0 else (-1.0, 1.0)


def limit_note(values, limit: float, percentile: float, symbol: str = "response",
               beyond: bool = True) -> str:
    """The sentence written under a signed picture: which limit, and how much is beyond it.

    ``colour limit ±1.87 = 99.5th percentile of |e|; 0.5% of pixels beyond it`` (the part
    after the semicolon only with ``beyond``, and only if some pixels are).
    """
    p = _check_percentile(percentile)
    which = f"max |{symbol}|" if p >= 100 else f"{_ordinal(p)} percentile of |{symbol}|"
    note = f"colour limit ±{format_value(limit)} = {which}"
    a = np.asarray(values, dtype=float)
    share = float(np.mean(np.abs(a) > limit * (1 + 1e-12))) if a.size and beyond else 0.0
    if share > 0:
        note += f"; {format_value(100 * share, '{:.2g}')}% of pixels beyond it"
    return note


# -- images ----------------------------------------------------------------------------

def _as_display(a: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        from course.images import as_float

        return as_float(a)
    return a.astype(float, copy=False)


def show_images(*images, titles=None, cmap="gray", size: float = 4, signed=None, axes=None,
                percentile: float = 99.5):
    """Plot images side by side.

    Parameters
    ----------
    images : array_like
        2-D grey or (H, W, 3) colour images; float in [0, 1], or uint8 (0-255).
    titles : sequence of str, optional
        One title per image.
    cmap : str
        Colour map for grey images (not for signed ones, which use zero as mid-grey).
    size : float
        Height of each panel in inches.
    signed : sequence of bool, optional
        Per image: draw with zero as mid-grey on limits symmetric about zero. By default,
        a grey image with negative values is drawn signed; others on [0, 1] if they fit.
    axes : sequence of matplotlib Axes, optional
        Draw into these instead of a new figure.
    percentile : float
        Signed images: the colour limit is this percentile of |image| (100: the largest),
        written under the panel.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    _check_percentile(percentile)
    if not images:
        raise ValueError("show_images needs at least one image")
    arrays = [_as_display(np.asarray(im)) for im in images]
    for i, a in enumerate(arrays):
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
            raise ValueError(f"image {i} has shape {a.shape}: expected (H, W) or (H, W, 3)")
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"got {len(titles)} titles for {len(arrays)} images")
    if signed is None:
        signed = [a.ndim == 2 and a.size > 0 and float(np.nanmin(a)) < 0 for a in arrays]
    elif isinstance(signed, bool):
        signed = [signed] * len(arrays)
    if axes is None:
        _, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays), size), squeeze=False)
        axes = axes[0]
    for i, (ax, a) in enumerate(zip(axes, arrays, strict=False)):
        if a.ndim == 3:
            ax.imshow(np.clip(a, 0, 1), interpolation="nearest")
        elif signed[i]:
            lo, hi = signed_limits(a, percentile)
            ax.imshow(a, cmap=_cmap(None), vmin=lo, vmax=hi, interpolation="nearest")
            ax.text(0.5, -0.01, limit_note(a, hi, percentile, "value", beyond=False),
                    transform=ax.transAxes, ha="center", va="top", fontsize=7.5)
        else:
            lo, hi = (0.0, 1.0) if a.size and a.min() >= 0 and a.max() <= 1 else (None, None)
            ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i])
        ax.set_axis_off()
    return list(axes)


def _zoom_box(zoom, shape) -> tuple[int, int, int, int]:
    try:
        top, left, height, width = (int(v) for v in zoom)
    except (TypeError, ValueError):
        raise ValueError(f"zoom must be (top, left, height, width), got {zoom!r}") from None
    if height < 1 or width < 1 or top < 0 or left < 0 or top + height > shape[0] \
            or left + width > shape[1]:
        raise ValueError(f"zoom {zoom!r} (top, left, height, width) is not inside the "
                         f"{shape[0]} x {shape[1]} image")
    return top, left, height, width


def show_signed(response, title=None, cmap=None, ax=None, colorbar: bool = True, size=4, *,
                percentile: float = 99.5, symbol: str = "response", zoom=None,
                limit: float | None = None):
    """Plot a signed response: zero mid-grey, a robust symmetric limit, a colour bar.

    Parameters
    ----------
    response : array_like
        2-D array of any sign.
    title : str, optional
    cmap : str or Colormap, optional
        :data:`SIGNED_CMAP` by default (dark blue, mid-grey at 0, light orange); 'gray'
        draws negative darker and positive brighter in grey.
    ax : matplotlib.axes.Axes or pair of Axes, optional
        Where to draw (a pair when ``zoom`` is given: the full view and the crop).
    colorbar : bool
        Add a colour bar.
    size : float
        Height of the figure in inches (when a new one is made).
    percentile : float
        The colour limit is this percentile of |response|: 99.5 by default; 100 gives the
        largest absolute value (the scale of ``to_display``). Pixels beyond the limit are
        drawn at full colour, and the figure says how many there are.
    symbol : str
        How the note under the picture names the response: ``"e"`` gives "colour limit
        ±1.87 = 99.5th percentile of |e|".
    zoom : (int, int, int, int), optional
        ``(top, left, height, width)`` of a crop: a rectangle marks it on the full view
        and the crop is drawn beside it, on the same colours.
    limit : float, optional
        Use this colour limit instead of a percentile (e.g. to put two responses on one
        scale).

    Returns
    -------
    list of matplotlib.axes.Axes
        The full view, and the crop when zoomed.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    a = np.asarray(response, dtype=float)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"response must be a non-empty 2-D array, got shape {a.shape}")
    p = _check_percentile(percentile)
    box = _zoom_box(zoom, a.shape) if zoom is not None else None
    if limit is not None:
        if not float(limit) > 0:
            raise ValueError(f"limit must be positive, got {limit!r}")
        m = float(limit)
        note = f"colour limit ±{format_value(m)} (given)"
        beyond = float(np.mean(np.abs(a) > m))
        if beyond > 0:
            note += f"; {format_value(100 * beyond, '{:.2g}')}% of pixels beyond it"
    else:
        m = signed_limits(a, p)[1]
        note = limit_note(a, m, p, symbol)
    cmap = _cmap(cmap)
    if ax is None:
        if box is None:
            width = (size - 0.6) * a.shape[1] / a.shape[0] + (1.0 if colorbar else 0.3)
            _, ax = plt.subplots(figsize=(width, size + 0.3), layout="constrained")
            axes = [ax]
        else:
            crop_w = (size - 0.6) * box[3] / box[2]
            full_w = (size - 0.6) * a.shape[1] / a.shape[0]
            _, pair = plt.subplots(1, 2, figsize=(full_w + crop_w + (1.2 if colorbar else 0.5),
                                                  size + 0.4), layout="constrained",
                                   gridspec_kw={"width_ratios": [full_w, crop_w]})
            axes = list(pair)
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != (2 if box is not None else 1):
            raise ValueError("ax must be one Axes, or a pair of Axes (full view, crop) with zoom")
    beyond_any = bool(np.any(np.abs(a) > m))
    im = axes[0].imshow(a, cmap=cmap, vmin=-m, vmax=m, interpolation="nearest")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    for spine in axes[0].spines.values():
        spine.set_visible(False)
    if title:
        axes[0].set_title(title)
    # the note as the x label: layouts make room for it; the share beyond on a second line
    axes[0].set_xlabel(note.replace("; ", "\n"), fontsize=8)
    if box is not None:
        top, left, height, width = box
        for colour, lw in (("black", 3.2), ("#39ff14", 1.6)):  # a green frame, outlined
            axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                                        edgecolor=colour, lw=lw))
        crop = a[top:top + height, left:left + width]
        axes[1].imshow(crop, cmap=cmap, vmin=-m, vmax=m, interpolation="nearest",
                       extent=(left - 0.5, left + width - 0.5, top + height - 0.5, top - 0.5))
        axes[1].set_xticks([])
        axes[1].set_yticks([])
        for spine in axes[1].spines.values():
            spine.set_edgecolor("#39ff14")
            spine.set_linewidth(2)
        axes[1].set_title(f"zoom: rows {top}-{top + height - 1}, columns {left}-{left + width - 1}",
                          fontsize=9)
    if colorbar:
        bar = axes[-1].figure.colorbar(im, ax=axes, fraction=0.046 if box is None else 0.035,
                                       pad=0.03, extend="both" if beyond_any else "neither")
        bar.ax.tick_params(labelsize=8)
        bar.set_ticks([-m, -m / 2, 0, m / 2, m])
        bar.set_ticklabels([format_value(t) for t in (-m, -m / 2, 0, m / 2, m)])
    return axes


# -- kernels and patches ---------------------------------------------------------------

def show_kernel(kernel, title=None, ax=None, fmt=None, cmap=None, size=None, kind: str = "kernel",
                limit: float | None = None):
    """Draw a kernel (or an image patch) as a heatmap with its numbers written in each cell.

    Parameters
    ----------
    kernel : array_like
        2-D array (1-D is drawn as one row).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
    fmt : str, optional
        Format of the numbers (``"{:.2f}"``); three significant digits by default;
        ``" "`` writes none. A value that rounds to zero is written without a minus.
    cmap : str, optional
        ``kind="kernel"``: a diverging map centred on zero ('RdBu_r' by default);
        ``kind="patch"``: 'gray'.
    size : float, optional
        Side of a new figure in inches.
    kind : {'kernel', 'patch'}
        A kernel (weights of any sign) is drawn on limits symmetric about zero; a patch
        (image pixels) in grey, from black at ``min(0, smallest)`` to white at the
        largest value (``[0, 1]`` for pixels in [0, 1]).
    limit : float, optional
        Kernels: the colour limit (e.g. fixed over several kernels); patches: the value
        drawn white.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    if kind not in ("kernel", "patch"):
        raise ValueError(f"kind must be 'kernel' or 'patch', got {kind!r}")
    k = np.asarray(kernel, dtype=float)
    if k.ndim == 1:
        k = k[None, :]
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"kernel must be a non-empty 2-D array, got shape {np.shape(kernel)}")
    if ax is None:
        side = size or max(1.8, 0.6 * max(k.shape))
        _, ax = plt.subplots(figsize=(side * k.shape[1] / max(k.shape),
                                      side * k.shape[0] / max(k.shape)))
    if kind == "kernel":
        hi = float(limit) if limit is not None else signed_limits(k)[1]
        lo = -hi
        cmap = cmap or "RdBu_r"
    else:
        lo = min(0.0, float(np.nanmin(k)))
        top = float(np.nanmax(k))
        hi = float(limit) if limit is not None else (1.0 if lo >= 0 and top <= 1 else top)
        if hi <= lo:
            hi = lo + 1.0
        cmap = cmap or "gray"
    cm = plt.get_cmap(cmap)
    norm = Normalize(lo, hi)
    ax.imshow(k, cmap=cm, norm=norm, interpolation="nearest")
    if k.size <= 121:
        tiny = 1e-9 * float(np.nanmax(np.abs(k)))
        fontsize = 9 if max(k.shape) <= 7 else 7
        for (r, c), v in np.ndenumerate(k):
            red, green, blue, _ = cm(norm(v))
            light_background = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
            ax.text(c, r, format_value(v, fmt, tiny), ha="center", va="center",
                    fontsize=fontsize, color="black" if light_background else "white")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
