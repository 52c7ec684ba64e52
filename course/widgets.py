"""Interactive explorers and step viewers for the notebooks (ipywidgets).

``kernel_explorer(image=None, size=3, preset="edge", ...)``
    One slider per kernel weight, presets, the border mode, "normalise", an upload
    button for your own picture, a colour menu and a zoom; the image and its filtered
    version side by side, redrawn as a slider moves.
``sliding_window_explorer(image=None, kernel=None, pad=0, mode="constant", stride=1, ...)``
    Steps a kernel across a small (optionally padded, optionally multi-channel) image:
    the window, its products, their sum and the output filling in.
``step_viewer(kernels, losses, ...)`` and ``kernel_history_viewer(weights, losses, ...)``
    A slider and a play button over the steps (or epochs) of a training run: the kernels
    on one colour scale fixed over all frames, and the loss curve.

Each one is a small class that keeps the state and computes (tests drive it by setting
``.value`` on its widgets, no browser needed) and a thin panel, ``.widget``. Display the
object itself: its output holds the live widget *and* a PNG of the first frame, which an
HTML export, nbgrader's feedback and a notebook reopened without a kernel show instead of
an empty ``Out[ ]`` (nbconvert drops a widget view that has no saved widget state).

Nothing here runs student code: the filters are SciPy's, the pictures matplotlib's and
Pillow's, so the explorers work before any exercise is written.
"""

from __future__ import annotations

import base64
import html
import io
import os
import zlib
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

__all__ = [
    "MODES",
    "ZOOMS",
    "FrameViewer",
    "KernelExplorer",
    "SlidingWindowExplorer",
    "kernel_explorer",
    "kernel_history_viewer",
    "png_bytes",
    "presets",
    "sliding_window_explorer",
    "step_viewer",
]

#: The boundary modes of ``scipy.ndimage``, the default first.
MODES = ("reflect", "mirror", "nearest", "wrap", "constant")

#: ``scipy.ndimage`` mode -> ``numpy.pad`` mode (the same padding, other names).
_NUMPY_PAD_MODE = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge",
                   "wrap": "wrap", "constant": "constant"}

# Tables of numbers, typed by hand. The Gaussian presets are the binomial tables
# [1 2 1] x [1 2 1] / 16 and [1 4 6 4 1] x [1 4 6 4 1] / 256 (close to sigma 0.85 and 1).
# Sobel and emboss are written for convolution (scipy.ndimage.convolve), the operation
# the explorer applies: Sobel x is then bright where the image gets brighter to the right.
# "sharpen" is notebook 02's sharpen_kernel(1.0): identity + (identity - 3x3 box).
_PRESETS_3 = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "blur": [[1 / 9] * 3] * 3,
    "Gaussian": [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]],
    "sharpen": [[-1 / 9, -1 / 9, -1 / 9], [-1 / 9, 17 / 9, -1 / 9], [-1 / 9, -1 / 9, -1 / 9]],
    "Sobel x": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "Sobel y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
_GAUSSIAN_5 = [[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, 36, 24, 6], [4, 16, 24, 16, 4],
               [1, 4, 6, 4, 1]]

CUSTOM = "custom"
RANDOM = "random"
_RANDOM_SEED = 7  # the "random" preset: weights drawn once, the same in every run

#: The explorer's zoom choices: the whole image fitted to the panel, or a crop with each
#: image pixel drawn as n x n screen pixels.
ZOOMS = ("fit", "1x", "2x", "4x", "8x")
_UPLOAD_SIDE = 800     # an uploaded picture is shrunk to at most this many pixels a side
_ARRAY_SIDE = 1600     # the largest array the explorer takes (filtering must stay fast)
_PERCENTILE = 99.5     # signed responses: the colour limit, as course.plotting.show_signed


def presets(size: int = 3) -> dict[str, np.ndarray]:
    """Return the explorer's preset kernels of shape ``(size, size)``, by name.

    For ``size=5`` the 3x3 presets sit in the middle of a 5x5 table of zeros (they
    filter exactly as before), except the blur (all 1/25) and the Gaussian (5x5 table).
    ``"random"`` holds random weights (normal, rounded to 2 decimals, drawn once with a
    fixed seed): what a network's kernels are before training, and what they do to an
    image.
    """
    if size not in (3, 5):
        raise ValueError(f"size must be 3 or 5, got {size!r}")
    out = {name: np.array(k, dtype=float) for name, k in _PRESETS_3.items()}
    if size == 5:
        out = {name: np.pad(k, 1) for name, k in out.items()}
        out["blur"] = np.full((5, 5), 1 / 25)
        out["Gaussian"] = np.array(_GAUSSIAN_5, dtype=float) / 256
    out[RANDOM] = np.round(np.random.default_rng(_RANDOM_SEED).standard_normal((size, size)), 2)
    return out


# -------------------------------------------------------------------------------------
# Pictures: PNG bytes (Pillow), colour tables, the static fallback
# -------------------------------------------------------------------------------------

def png_bytes(image: np.ndarray, level: int = 1, palette: np.ndarray | None = None,
              huffman_only: bool = True) -> bytes:
    """Encode a ``uint8`` array as a PNG, with Pillow.

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8``, (H, W) grey or (H, W, 3) colour.
    level : int
        zlib level (0-9).
    huffman_only : bool
        Huffman coding without string matching. Measured on the explorer's 360 x 422
        panels of the photograph (``benchmarks/bench_widgets.py``): level 1 Huffman-only
        takes 3-4 ms and is as small as Pillow's default (level 6, 7-17 ms). Pictures
        with flat areas (figures, a zoomed crop whose pixels are blocks) are 3-10x
        smaller with string matching (``False``) at the same speed. (The hand-written
        PNG writer this replaces took 1 ms, but without row filters its files of smooth
        pictures were 1.6x larger; Pillow is fast enough for a 50 ms redraw.)
    palette : numpy.ndarray, optional
        (256, 3) ``uint8`` colours: a grey array is then written as palette indices (a
        colour picture at one byte a pixel).

    Returns
    -------
    bytes
    """
    from PIL import Image

    a = np.asarray(image)
    if a.dtype != np.uint8 or not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"png_bytes needs a uint8 array of shape (H, W) or (H, W, 3), got "
                         f"{a.ndim}-D {a.dtype}")
    im = Image.fromarray(np.ascontiguousarray(a))
    if palette is not None:
        if a.ndim != 2:
            raise ValueError("a palette needs a 2-D array of colour indices")
        im.putpalette(np.asarray(palette, dtype=np.uint8).ravel().tobytes())
    buffer = io.BytesIO()
    im.save(buffer, format="PNG", compress_level=level,
            compress_type=zlib.Z_HUFFMAN_ONLY if huffman_only else zlib.Z_DEFAULT_STRATEGY)
    return buffer.getvalue()


def _signed_palette() -> np.ndarray:
    """(256, 3) uint8: course.plotting's signed colour map, index 128 ~ zero."""
    from course.plotting import SIGNED_CMAP

    return (SIGNED_CMAP(np.linspace(0, 1, 256))[:, :3] * 255 + 0.5).astype(np.uint8)


def _figure(width: float, height: float, dpi: int = 100):
    """A matplotlib figure that pyplot does not know (so the inline backend never shows it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _figure_png(fig, tight: bool = False) -> bytes:
    """Draw a figure and return it as PNG bytes (RGB, via :func:`png_bytes`).

    ``tight``: crop to what is drawn (matplotlib's ``savefig``; slower, for one-off pictures).
    """
    if tight:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.08,
                    facecolor="white")
        return buffer.getvalue()
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return png_bytes(np.ascontiguousarray(rgba[:, :, :3]), huffman_only=False)


def _decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


class _Displayable:
    """Displaying the object shows its widget, with a PNG of its first frame as fallback."""

    widget = None

    def static_png(self) -> bytes:  # pragma: no cover - each class has its own
        raise NotImplementedError

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude, **kwargs))
        # nbconvert picks the widget view only when the notebook saved the widget state,
        # and then image/png: so an HTML export shows this picture of the first frame.
        bundle["image/png"] = base64.b64encode(self.static_png()).decode("ascii")
        return bundle


# -------------------------------------------------------------------------------------
# The kernel explorer
# -------------------------------------------------------------------------------------

def _checked_image(image, name: str = "image") -> np.ndarray:
    """An image as float64 in [0, 1]: (H, W) grey or (H, W, 3) colour."""
    from course.images import as_float

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]  # drop the alpha channel
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)) or a.size == 0:
        raise ValueError(f"{name} must be a grey (H, W) or colour (H, W, 3) image, got shape "
                         f"{a.shape}")
    a = as_float(a)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if max(a.shape[:2]) > _ARRAY_SIDE:
        raise ValueError(f"{name} is {a.shape[0]} x {a.shape[1]} pixels: at most {_ARRAY_SIDE} "
                         f"a side fit the explorer; shrink it, e.g. "
                         f"course.load_image(path, max_side={_UPLOAD_SIDE})")
    return a


def _luma(image: np.ndarray) -> np.ndarray:
    from course.images import _LUMA

    return image @ _LUMA if image.ndim == 3 else image


def _is_zero_sum(kernel: np.ndarray) -> bool:
    return abs(float(kernel.sum())) <= 1e-9 * max(1.0, float(np.abs(kernel).sum()))


def _kernel_text(kernel: np.ndarray) -> str:
    from course.plotting import format_value

    tiny = 1e-12 * float(np.abs(kernel).max()) if kernel.size else 0.0
    rows = ",\n              ".join(
        "[" + ", ".join(format_value(v, "{:.6g}", tiny) for v in row) + "]" for row in kernel)
    return f"np.array([{rows}])"


def _resample(values: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """Resize (h, w) or (h, w, 3) float values: area average to shrink, nearest to enlarge."""
    from PIL import Image

    h, w = values.shape[:2]
    oh, ow = out_hw
    if (oh, ow) == (h, w):
        return values
    if oh % h == 0 and ow % w == 0 and oh // h == ow // w:  # whole-number zoom: exact blocks
        z = oh // h
        return values.repeat(z, axis=0).repeat(z, axis=1)
    method = Image.Resampling.BOX if oh < h else Image.Resampling.NEAREST
    planes = values[..., None] if values.ndim == 2 else values
    out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], np.float32))
                               .resize((ow, oh), method))
                    for c in range(planes.shape[2])], axis=-1)
    return out[..., 0] if values.ndim == 2 else out.astype(np.float64)


class KernelExplorer(_Displayable):
    """The state and drawing of the kernel explorer (see :func:`kernel_explorer`).

    Attributes
    ----------
    sliders : list of list of ipywidgets.FloatSlider
        ``sliders[i][j]`` holds weight ``(i, j)``.
    preset : ipywidgets.Dropdown
        A preset name, or ``'custom'`` once a slider has moved away from it.
    mode : ipywidgets.Dropdown
        The boundary mode of ``scipy.ndimage`` (``MODES``).
    normalise : ipywidgets.Checkbox
        Divide the weights by their sum when the sum is not zero.
    source : ipywidgets.Dropdown
        Which image: the photograph, and each picture uploaded or loaded.
    upload : ipywidgets.FileUpload or None
        Your own PNG or JPEG (shrunk to at most 800 pixels a side).
    colour : ipywidgets.Dropdown
        For a colour image: ``'grey'`` filters its grey version, ``'each channel'``
        filters red, green and blue separately.
    zoom : ipywidgets.Dropdown
        ``'fit'`` (the whole image) or a crop at ``'1x'`` ... ``'8x'``.
    row, column : ipywidgets.IntSlider
        The centre of the crop, in image pixels.
    text : ipywidgets.HTML
        The current kernel as Python text, to paste into a cell.
    original, output, where : ipywidgets.Image
        The image, the filtered image (PNGs of the panel's size), and a small overview
        with the crop marked.
    info : ipywidgets.HTML
        What the picture shows: its colour scale, what was clipped, the crop.
    widget : ipywidgets.VBox
        The panel.
    """

    def __init__(self, image=None, size: int = 3, preset: str = "edge", *, width: int = 360,
                 colour: str = "grey", zoom: str = "fit", upload: bool = True):
        import ipywidgets as w

        from course.images import photo

        if size not in (3, 5):
            raise ValueError(f"size must be 3 or 5, got {size!r}")
        if not isinstance(width, int) or not 120 <= width <= 1200:
            raise ValueError(f"width must be a number of pixels from 120 to 1200, got {width!r}")
        if colour not in ("grey", "each channel"):
            raise ValueError(f"colour must be 'grey' or 'each channel', got {colour!r}")
        if zoom not in ZOOMS:
            raise ValueError(f"zoom must be one of {ZOOMS}, got {zoom!r}")
        self.size = size
        self.width = width
        self._presets = presets(size)
        if preset not in self._presets:
            raise ValueError(f"unknown preset {preset!r}; choose one of {list(self._presets)}")
        self._images: dict[str, np.ndarray] = {}
        if image is None:
            self._images["photograph"] = photo(grey=False)
            first = "photograph"
        else:
            self._images["your image"] = _checked_image(image)
            first = "your image"
        self._hold = False
        self._view_key = None
        self._palette = _signed_palette()
        self.last_display = ""
        self.last_png_bytes = 0
        self.redraws = 0
        self.message = ""

        # step=None: the browser must not snap weights to a grid (a step of 0.01 would
        # turn the blur's 1/9 into 0.11 and send that back; the blur would darken).
        slider_layout = w.Layout(width="200px" if size == 3 else "165px")
        self.sliders = [[w.FloatSlider(value=0.0, min=-10.0, max=10.0, step=None,
                                       readout_format=".3f", continuous_update=True,
                                       layout=slider_layout, description="")
                         for _ in range(size)] for _ in range(size)]
        self.preset = w.Dropdown(options=[CUSTOM, *self._presets], value=CUSTOM,
                                 description="preset", layout=w.Layout(width="190px"))
        self.mode = w.Dropdown(options=list(MODES), value="reflect", description="border",
                               layout=w.Layout(width="190px"))
        self.normalise = w.Checkbox(value=False, description="normalise (divide by the sum)",
                                    indent=False, layout=w.Layout(width="auto"))
        self.source = w.Dropdown(options=list(self._images), value=first, description="image",
                                 layout=w.Layout(width="260px"))
        self.upload = (w.FileUpload(accept=".png,.jpg,.jpeg,image/png,image/jpeg", multiple=False,
                                    description="upload your image", icon="upload",
                                    layout=w.Layout(width="auto"))
                       if upload else None)
        self.colour = w.Dropdown(options=["grey", "each channel"], value=colour,
                                 description="colour", layout=w.Layout(width="220px"))
        self.zoom = w.Dropdown(options=list(ZOOMS), value=zoom, description="zoom",
                               layout=w.Layout(width="150px"))
        self.row = w.IntSlider(value=0, min=0, max=1, description="centre row",
                               continuous_update=False, style={"description_width": "auto"})
        self.column = w.IntSlider(value=0, min=0, max=1, description="centre column",
                                  continuous_update=False, style={"description_width": "auto"})
        self.text = w.HTML()
        self.info = w.HTML(layout=w.Layout(width=f"{2 * width + 12}px"))
        image_layout = w.Layout(width="auto", height="auto", flex="0 0 auto")
        self.original = w.Image(format="png", layout=image_layout)
        self.output = w.Image(format="png", layout=image_layout)
        self.where = w.Image(format="png", layout=w.Layout(width="auto", height="auto"))
        for widget, name in [(self.preset, "preset"), (self.mode, "mode"),
                             (self.normalise, "normalise"), (self.text, "text"),
                             (self.source, "source"), (self.colour, "colour"),
                             (self.zoom, "zoom"), (self.row, "row"), (self.column, "column"),
                             (self.info, "info"), (self.where, "where"),
                             (self.original, "original"), (self.output, "output")]:
            widget.add_class(f"kernel-explorer-{name}")
        if self.upload is not None:
            self.upload.add_class("kernel-explorer-upload")
        for i, row in enumerate(self.sliders):
            for j, s in enumerate(row):
                s.add_class("kernel-explorer-weight")
                s.add_class(f"kernel-explorer-weight-{i}-{j}")

        self._image_changed()
        self.select(preset)

        for row in self.sliders:
            for s in row:
                s.observe(self._on_weight, names="value")
        self.preset.observe(self._on_preset, names="value")
        for widget in (self.mode, self.normalise, self.zoom, self.row, self.column):
            widget.observe(self._on_change, names="value")
        self.colour.observe(self._on_colour, names="value")
        self.source.observe(self._on_source, names="value")
        if self.upload is not None:
            self.upload.observe(self._on_upload, names="value")

        grid = w.GridBox([s for row in self.sliders for s in row],
                         layout=w.Layout(grid_template_columns=f"repeat({size}, auto)",
                                         grid_gap="2px 12px", width="max-content"))
        wrap = w.Layout(flex_flow="row wrap", align_items="center", grid_gap="4px 12px")
        image_row = [self.source, *([self.upload] if self.upload is not None else []), self.colour]
        header = w.VBox([w.HBox(image_row, layout=wrap),
                         w.HBox([self.preset, self.mode, self.normalise], layout=wrap)])
        grid.layout.flex = "0 0 auto"  # the sliders keep their width; the text may scroll
        self.text.layout = w.Layout(flex="1 1 auto", min_width="0", overflow="auto")
        if size == 3:  # the kernel's text beside the sliders; under them for 5x5
            kernel = w.HBox([grid, self.text], layout=w.Layout(align_items="flex-start",
                                                               grid_gap="16px"))
        else:
            kernel = w.VBox([grid, self.text])
        view = w.HBox([self.zoom, self.row, self.column], layout=wrap)
        pictures = w.HBox([
            w.VBox([w.HTML("<b>image</b>"), self.original, self.where]),
            w.VBox([w.HTML("<b>convolved with the kernel</b>"), self.output]),
        ], layout=w.Layout(grid_gap="12px"))
        self.widget = w.VBox([header, kernel, view, pictures, self.info])
        self.widget.add_class("kernel-explorer")

    # -- state ---------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        """The image chosen in :attr:`source` (float64 in [0, 1], grey or colour; a view)."""
        return self._images[self.source.value]

    @property
    def working_image(self) -> np.ndarray:
        """What is filtered: the grey version of a colour image, unless 'each channel'."""
        image = self.image
        if image.ndim == 3 and self.colour.value == "grey":
            return _luma(image)
        return image

    @property
    def weights(self) -> np.ndarray:
        """The slider values, as a new ``(size, size)`` float array."""
        return np.array([[s.value for s in row] for row in self.sliders], dtype=float)

    @property
    def kernel(self) -> np.ndarray:
        """The kernel applied: the weights, divided by their sum if normalising (a copy)."""
        k = self.weights
        if self.normalise.value and not _is_zero_sum(k):
            k = k / k.sum()
        return k

    @kernel.setter
    def kernel(self, values) -> None:
        self.set_weights(values)

    def set_weights(self, values) -> None:
        """Set all sliders at once (one redraw); the preset becomes 'custom'."""
        k = np.asarray(values, dtype=float)
        if k.shape != (self.size, self.size):
            raise ValueError(f"this explorer holds a {self.size}x{self.size} kernel, "
                             f"got shape {k.shape}")
        self._set_sliders(k)
        self._hold = True
        try:
            self.preset.value = self._matching_preset()
        finally:
            self._hold = False
        self.redraw()

    def select(self, name: str) -> None:
        """Load a preset into the sliders (the same as picking it in the dropdown)."""
        if name not in self._presets:
            raise ValueError(f"unknown preset {name!r}; choose one of {list(self._presets)}")
        self._hold = True
        try:
            self.preset.value = name
        finally:
            self._hold = False
        self._set_sliders(self._presets[name])
        self.redraw()

    def load(self, source, name: str | None = None) -> None:
        """Add a picture and show it: a file path, the file's bytes, or an array.

        Files are read with :func:`course.load_image` and shrunk to at most 800 pixels a
        side. Raises ``ValueError`` (one line) for something that is not an image.
        """
        from course.images import load_image

        if isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
            picture = load_image(source, max_side=_UPLOAD_SIDE)
            if (picture[:, :, :1] == picture).all():  # a grey picture stored as colour
                picture = picture[:, :, 0]
            image = _checked_image(picture)
            if name is None and isinstance(source, (str, os.PathLike)):
                name = os.path.basename(os.fspath(source))
        else:
            image = _checked_image(source)
        name = name or f"image {len(self._images) + 1}"
        base, n = name, 2
        while name in self._images:
            name, n = f"{base} ({n})", n + 1
        self._images[name] = image
        self.message = ""
        self._hold = True
        try:
            self.source.options = list(self._images)
            self.source.value = name
        finally:
            self._hold = False
        self._image_changed()
        self.redraw()

    def filtered(self) -> np.ndarray:
        """The working image convolved with :attr:`kernel` (``scipy.ndimage.convolve``).

        A colour image filtered 'each channel' gives (H, W, 3): each channel convolved
        alone, as notebook 02's ``filter_rgb``.
        """
        from scipy.ndimage import convolve

        image, kernel, mode = self.working_image, self.kernel, self.mode.value
        if image.ndim == 2:
            return convolve(image, kernel, mode=mode)
        return np.stack([convolve(image[:, :, c], kernel, mode=mode) for c in range(3)], axis=-1)

    # -- what the panel shows ------------------------------------------------------
    def panel_shape(self) -> tuple[int, int]:
        """(height, width) in screen pixels of each picture at 'fit'."""
        h, w = self.image.shape[:2]
        scale = min(self.width / w, 1.25 * self.width / h)
        if scale >= 1:
            scale = min(int(scale), 16)  # whole image pixels: crisp, not smeared
            return h * scale, w * scale
        return max(1, round(h * scale)), max(1, round(w * scale))

    def view_region(self) -> tuple[int, int, int, int, int]:
        """``(top, left, height, width, z)``: the image pixels shown, and the zoom.

        ``z`` is 0 at 'fit' (the whole image, resized to :meth:`panel_shape`); otherwise
        each image pixel is drawn as ``z x z`` screen pixels and the crop is centred on
        (:attr:`row`, :attr:`column`) as far as the image allows.
        """
        h, w = self.image.shape[:2]
        if self.zoom.value == "fit":
            return 0, 0, h, w, 0
        z = int(self.zoom.value[:-1])
        ph, pw = self.panel_shape()
        ch, cw = min(h, max(1, ph // z)), min(w, max(1, pw // z))
        top = int(np.clip(self.row.value - ch // 2, 0, h - ch))
        left = int(np.clip(self.column.value - cw // 2, 0, w - cw))
        return top, left, ch, cw, z

    def _out_shape(self, region) -> tuple[int, int]:
        _, _, ch, cw, z = region
        return self.panel_shape() if z == 0 else (ch * z, cw * z)

    def shown(self) -> tuple[np.ndarray, np.ndarray]:
        """The two pictures as arrays of values, before colouring: (image, response).

        Both are the :meth:`view_region` crop of the working image and of
        :meth:`filtered`, resized to the panel.
        """
        region = self.view_region()
        top, left, ch, cw, _ = region
        out = self._out_shape(region)
        crop = (slice(top, top + ch), slice(left, left + cw))
        return (_resample(self.working_image[crop], out), _resample(self.filtered()[crop], out))

    def _colours(self, values: np.ndarray, signed: bool, limit: float, zoomed: bool) -> bytes:
        if signed:
            if values.ndim == 2:  # the signed colour map, as palette indices
                index = np.clip(values * (127.5 / limit) + 128.0, 0, 255).astype(np.uint8)
                return png_bytes(index, palette=self._palette, huffman_only=not zoomed)
            scaled = np.clip(values * (0.5 / limit) + 0.5, 0, 1)  # each channel: 0 grey
        else:
            scaled = np.clip(values, 0.0, 1.0)
        return png_bytes((scaled * 255.0 + 0.5).astype(np.uint8), huffman_only=not zoomed)

    def _draw_image(self) -> None:
        """The left picture and the overview: redrawn when the image or the view changes."""
        region = self.view_region()
        key = (self.source.value, self.colour.value, region)
        if key == self._view_key:
            return
        self._view_key = key
        top, left, ch, cw, z = region
        out = self._out_shape(region)
        work = self.working_image
        self.original.value = self._colours(
            _resample(work[top:top + ch, left:left + cw], out), False, 1.0, z > 1)
        for picture in (self.original, self.output):  # drawn at their own size, not stretched
            picture.layout.width = f"{out[1]}px"
        if z == 0:
            self.where.layout.display = "none"
            return
        self.where.layout.display = None
        h, w = work.shape[:2]
        s = min(1.0, 120 / max(h, w))
        th, tw = max(1, round(h * s)), max(1, round(w * s))
        thumb = np.clip(_resample(work, (th, tw)), 0, 1)
        thumb = np.repeat(thumb[..., None], 3, axis=2) if thumb.ndim == 2 else thumb.copy()
        r0, c0 = int(top * th / h), int(left * tw / w)
        r1 = min(th - 1, max(r0 + 1, int((top + ch) * th / h) - 1))
        c1 = min(tw - 1, max(c0 + 1, int((left + cw) * tw / w) - 1))
        red = np.array([0.84, 0.15, 0.16])
        thumb[r0, c0:c1 + 1] = thumb[r1, c0:c1 + 1] = red
        thumb[r0:r1 + 1, c0] = thumb[r0:r1 + 1, c1] = red
        self.where.value = png_bytes((thumb * 255 + 0.5).astype(np.uint8))
        self.where.layout.width = f"{tw}px"

    def redraw(self) -> None:
        """Filter the image and update the pictures, the kernel text and the note."""
        from course.plotting import format_value

        self._draw_image()
        kernel = self.kernel
        response = self.filtered()
        signed = _is_zero_sum(kernel)
        region = self.view_region()
        top, left, ch, cw, z = region
        shown = _resample(response[top:top + ch, left:left + cw], self._out_shape(region))
        # rounding errors of a flat response (8v - v - ... - v) are not drawn as edges
        noise = 1e-12 * float(np.abs(kernel).sum())
        parts = []
        if signed:
            largest = float(np.abs(response).max())
            if largest <= noise:
                limit = 1.0
                shown = np.zeros_like(shown)
                parts.append("The weights sum to 0 and the response is 0 everywhere: all "
                             "mid-grey.")
            else:
                limit = float(np.percentile(np.abs(response), _PERCENTILE))
                limit = limit if limit > noise else largest
                scheme = ("0 is mid-grey, negative blue, positive orange" if response.ndim == 2
                          else "0 is mid-grey in each channel")
                parts.append(f"The weights sum to 0: a signed response ({scheme}). Colour "
                             f"limit ±{format_value(limit)} = 99.5th percentile of |response| "
                             f"(the largest is {format_value(largest)}).")
        else:
            limit = 1.0
            low = float((response < 0).mean())
            high = float((response > 1).mean())
            parts.append(f"Drawn on [0, 1]; the kernel sums to {format_value(kernel.sum(), '{:.4g}')}.")
            if low + high > 0.001:
                parts.append(f"{100 * low:.1f}% of pixels are below 0 (black) and "
                             f"{100 * high:.1f}% above 1 (white).")
        if self.image.ndim == 3:
            parts.append("Colour image: " + ("its grey version is filtered."
                                             if self.colour.value == "grey"
                                             else "red, green and blue are filtered separately."))
        h, w = self.image.shape[:2]
        if z == 0:
            ph, pw = self.panel_shape()
            parts.append(f"The whole {h} x {w} image, drawn {ph} x {pw}"
                         + (": zoom in to see single pixels." if ph < h else "."))
        else:
            parts.append(f"Rows {top}-{top + ch - 1}, columns {left}-{left + cw - 1}: each image "
                         f"pixel is {z} x {z} screen pixels.")
        data = self._colours(shown, signed, limit, z > 1)
        self.output.value = data
        self.last_png_bytes = len(data)
        self.last_display = "signed" if signed else "clipped"
        self.last_limit = limit
        note = " ".join(parts)
        if self.message:
            note = f"<span style='color: #b00'>{html.escape(self.message)}</span> " + html.escape(note)
        else:
            note = html.escape(note)
        self.info.value = f"<small>{note}</small>"
        self.text.value = ("<pre style='font-size: 11px; line-height: 1.2; margin: 0; "
                           "white-space: pre; overflow-x: auto'>"
                           f"{html.escape(_kernel_text(kernel))}</pre>")
        self.redraws += 1

    def static_png(self) -> bytes:
        """The panel as one PNG (kernel, image, filtered image, the note): for HTML export."""
        from course.plotting import show_kernel

        original, output = _decode_png(self.original.value), _decode_png(self.output.value)
        ph, pw = original.shape[:2]
        fig = _figure(2.6 + 2 * pw / 100 + 0.4, ph / 100 + 1.1)
        grid = fig.add_gridspec(1, 3, width_ratios=[2.2, pw / 100, pw / 100], left=0.01,
                                right=0.99, top=1 - 0.45 / (ph / 100 + 1.1),
                                bottom=0.65 / (ph / 100 + 1.1), wspace=0.05)
        ax = fig.add_subplot(grid[0])
        show_kernel(self.kernel, "kernel", ax=ax, fmt="{:.3g}")
        for spec, picture, title in ((grid[1], original, "image"),
                                     (grid[2], output, "convolved with the kernel")):
            ax = fig.add_subplot(spec)
            ax.imshow(picture, interpolation="nearest")
            ax.set_title(title, fontsize=10)
            ax.set_axis_off()
        note = html.unescape(self.info.value.replace("<small>", "").replace("</small>", ""))
        note = note.split("</span> ")[-1]
        fig.text(0.01, 0.01, _wrap(note, 150), fontsize=7.5, va="bottom")
        return _figure_png(fig)

    # -- events --------------------------------------------------------------------
    def _image_changed(self) -> None:
        h, w = self.image.shape[:2]
        self._hold = True
        try:
            self.colour.disabled = self.image.ndim != 3
            for slider, n in ((self.row, h), (self.column, w)):
                slider.max = max(1, n - 1)
                slider.value = n // 2
            if self.source.value == "photograph":
                self.row.value, self.column.value = 190, 256  # the face
        finally:
            self._hold = False
        self._sync_zoom_controls()

    def _sync_zoom_controls(self) -> None:
        fit = self.zoom.value == "fit"
        self.row.disabled = self.column.disabled = fit

    def _set_sliders(self, k: np.ndarray) -> None:
        self._hold = True
        try:
            for i, row in enumerate(self.sliders):
                for j, s in enumerate(row):
                    s.value = float(np.clip(k[i, j], s.min, s.max))
        finally:
            self._hold = False

    def _matching_preset(self) -> str:
        weights = self.weights
        for name, k in self._presets.items():
            if np.allclose(weights, k, rtol=0, atol=1e-12):
                return name
        return CUSTOM

    def _on_weight(self, change) -> None:
        if self._hold:
            return
        if self.preset.value != CUSTOM and self._matching_preset() != self.preset.value:
            self._hold = True
            try:
                self.preset.value = CUSTOM
            finally:
                self._hold = False
        self.redraw()

    def _on_preset(self, change) -> None:
        if self._hold or change["new"] == CUSTOM:
            return
        self.select(change["new"])

    def _on_change(self, change) -> None:
        if self._hold:
            return
        self._sync_zoom_controls()
        self.redraw()

    def _on_colour(self, change) -> None:
        if not self._hold:
            self.redraw()

    def _on_source(self, change) -> None:
        if self._hold:
            return
        self.message = ""
        self._image_changed()
        self.redraw()

    def _on_upload(self, change) -> None:
        files = change["new"]
        if self._hold or not files:
            return
        entry = files[0]
        name = str(entry.get("name") or "upload")
        try:
            self.load(bytes(entry["content"]), name=name)
        except (ValueError, OSError) as err:  # not an image: say so, keep the current one
            reason = str(err).splitlines()[0].split(" as an image: ")[-1]
            self.message = f"could not read {name} as an image: {reason}. Upload a PNG or JPEG."
            self.redraw()
        finally:
            self._hold = True
            try:
                self.upload.value = ()  # the bytes are kept in the explorer, not the widget
            finally:
                self._hold = False

    def __repr__(self) -> str:
        return (f"KernelExplorer(size={self.size}, preset={self.preset.value!r}, "
                f"mode={self.mode.value!r}, normalise={self.normalise.value},\n"
                f"kernel={_kernel_text(self.kernel)})")


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def kernel_explorer(image=None, size: int = 3, preset: str = "edge", *, width: int = 360,
                    colour: str = "grey", zoom: str = "fit", upload: bool = True) -> KernelExplorer:
    """Explore kernels with one slider per weight, on the photograph or your own image.

    Parameters
    ----------
    image : array_like, optional
        A grey (H, W) or colour (H, W, 3) image, uint8 (0-255) or float in [0, 1], at
        most 1600 pixels a side; the colour photograph by default. You can also upload a
        PNG or JPEG in the panel, or call ``.load(path)``.
    size : {3, 5}
        The kernel is ``size x size``.
    preset : str
        The preset loaded first: identity, edge, blur, Gaussian, sharpen, Sobel x,
        Sobel y, emboss or random.
    width : int
        Width of each picture in screen pixels.
    colour : {'grey', 'each channel'}
        How a colour image is filtered: its grey version, or each channel separately.
    zoom : {'fit', '1x', '2x', '4x', '8x'}
        The whole image, or a crop with each image pixel drawn n x n.
    upload : bool
        Show the upload button.

    Returns
    -------
    KernelExplorer
        Displaying it shows the panel; ``.kernel`` is the current kernel (a copy) and
        ``.filtered()`` the filtered image.

    Notes
    -----
    The image is *convolved* (``scipy.ndimage.convolve``) with the kernel. When the
    weights sum to zero the response is signed and drawn with zero as mid-grey on a
    colour limit at the 99.5th percentile of its absolute values; otherwise it is drawn
    on [0, 1] and the note under it says how much was clipped.
    """
    return KernelExplorer(image, size=size, preset=preset, width=width, colour=colour,
                          zoom=zoom, upload=upload)


# -------------------------------------------------------------------------------------
# The sliding window
# -------------------------------------------------------------------------------------

def _default_small_image() -> np.ndarray:
    image = np.zeros((8, 8))
    image[2:6, 3:] = 9.0  # a bright block: a vertical edge, two horizontal ones
    image[6:, :2] = 3.0
    return image


def _default_channels(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """A CS231n-style volume: small whole numbers in C channels of 5x5, a C x 3 x 3 kernel."""
    rng = np.random.default_rng(231)
    return (rng.integers(0, 3, (channels, 5, 5)).astype(float),
            rng.integers(-1, 2, (channels, 3, 3)).astype(float))


_EDGE = np.array(_PRESETS_3["edge"], dtype=float)
_MAX_SIDE, _MAX_KERNEL, _MAX_CHANNELS, _MAX_PAD = 16, 7, 4, 3


def _small_array(a, name: str, ndim: tuple[int, ...], side: int) -> np.ndarray:
    from course.images import as_float

    arr = np.asarray(a)
    if arr.ndim not in ndim or arr.size == 0:
        raise ValueError(f"{name} must be {' or '.join(f'{d}-D' for d in ndim)}, got shape "
                         f"{arr.shape}")
    arr = as_float(arr) if arr.dtype == np.bool_ else np.array(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if max(arr.shape[-2:]) > side:
        raise ValueError(f"{name} is {arr.shape[-2]}x{arr.shape[-1]}: at most {side} pixels a "
                         "side fit in the explorer; crop it")
    return arr


class SlidingWindowExplorer(_Displayable):
    """The state and drawing of the sliding-window explorer.

    The image is padded by ``pad`` pixels on every side (``scipy.ndimage``'s border
    ``mode``), then the window visits the valid positions of the padded image, in
    row-major order, ``stride`` pixels apart; the output is
    ``scipy.signal.correlate2d(padded, kernel, 'valid')[::stride, ::stride] + bias``
    (summed over the channels for a multi-channel image).

    Attributes
    ----------
    step : ipywidgets.IntSlider
        Which position the window is at (0 is the top-left one).
    stride : ipywidgets.IntSlider
        Pixels between two positions, 1 to 3.
    pad : ipywidgets.IntSlider
        Pixels added on every side, 0 to 3.
    mode : ipywidgets.Dropdown
        How the padding is filled (``MODES``; ``constant`` uses ``cval``).
    play : ipywidgets.Play
        Steps through the positions.
    view : ipywidgets.HTML
        The drawing: image with window, products, sums, output so far.
    widget : ipywidgets.VBox
        The panel.
    """

    def __init__(self, image=None, kernel=None, *, pad: int = 0, mode: str = "constant",
                 stride: int = 1, cval: float = 0.0, bias: float = 0.0,
                 channels: int | None = None):
        import ipywidgets as w

        if channels is not None:
            if isinstance(channels, bool) or not isinstance(channels, int) \
                    or not 1 <= channels <= _MAX_CHANNELS:
                raise ValueError(f"channels must be a whole number from 1 to {_MAX_CHANNELS}, "
                                 f"got {channels!r}")
            if image is None:
                image, default_kernel = _default_channels(channels)
                kernel = default_kernel if kernel is None else kernel
        if image is None:
            image = _default_small_image()
        self.image = _small_array(image, "image", (2, 3), _MAX_SIDE)
        if self.image.ndim == 3 and not 1 <= self.image.shape[0] <= _MAX_CHANNELS:
            raise ValueError(f"a multi-channel image is (C, H, W) with C from 1 to "
                             f"{_MAX_CHANNELS}, got shape {self.image.shape}")
        if channels is not None and self.image.ndim == 3 and self.image.shape[0] != channels:
            raise ValueError(f"channels={channels} but the image has {self.image.shape[0]}")
        if kernel is None:
            kernel = _EDGE.copy() if self.image.ndim == 2 else np.repeat(
                _EDGE[None] / self.image.shape[0], self.image.shape[0], axis=0)
        self.kernel = _small_array(kernel, "kernel", (self.image.ndim,), _MAX_KERNEL)
        if self.image.ndim == 3 and self.kernel.shape[0] != self.image.shape[0]:
            raise ValueError(f"a {self.image.shape[0]}-channel image needs a kernel of shape "
                             f"({self.image.shape[0]}, kh, kw): one slice per channel; got "
                             f"{self.kernel.shape}")
        kh, kw = self.kernel.shape[-2:]
        if kh > self.image.shape[-2] + 2 * _MAX_PAD or kw > self.image.shape[-1] + 2 * _MAX_PAD:
            raise ValueError(f"kernel {self.kernel.shape} does not fit inside image "
                             f"{self.image.shape}")
        if mode not in MODES:
            raise ValueError(f"unknown border mode {mode!r}; choose one of {list(MODES)}")
        for value, name, top in ((pad, "pad", _MAX_PAD), (stride, "stride", 3)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or not (0 if name == "pad" else 1) <= value <= top:
                raise ValueError(f"{name} must be a whole number from "
                                 f"{0 if name == 'pad' else 1} to {top}, got {value!r}")
        least_pad = max(0, kh - self.image.shape[-2], kw - self.image.shape[-1])
        least_pad = -(-least_pad // 2)
        if pad < least_pad:
            raise ValueError(f"kernel {self.kernel.shape} does not fit inside image "
                             f"{self.image.shape}: pad it by at least {least_pad}")
        self.cval = float(cval)
        self.bias = float(bias)
        self._hold = False
        self.stride = w.IntSlider(value=stride, min=1, max=3, description="stride",
                                  continuous_update=True)
        self.pad = w.IntSlider(value=pad, min=least_pad, max=_MAX_PAD, description="pad",
                               continuous_update=True)
        self.mode = w.Dropdown(options=list(MODES), value=mode, description="border",
                               layout=w.Layout(width="190px"))
        self.step = w.IntSlider(value=0, min=0, max=self.count - 1, description="position",
                                continuous_update=True)
        self.play = w.Play(value=0, min=0, max=self.count - 1, interval=700,
                           description="play")
        w.jslink((self.play, "value"), (self.step, "value"))
        w.jslink((self.play, "max"), (self.step, "max"))
        self.view = w.HTML()
        for widget, name in ((self.step, "step"), (self.stride, "stride"), (self.pad, "pad"),
                             (self.mode, "mode"), (self.view, "view")):
            widget.add_class(f"sliding-window-{name}")
        self.step.observe(self._on_change, names="value")
        self.mode.observe(self._on_change, names="value")
        self.stride.observe(self._on_shape, names="value")
        self.pad.observe(self._on_shape, names="value")
        wrap = w.Layout(flex_flow="row wrap", align_items="center")
        self.widget = w.VBox([w.HBox([self.play, self.step], layout=wrap),
                              w.HBox([self.stride, self.pad, self.mode], layout=wrap),
                              self.view])
        self.widget.add_class("sliding-window")
        self.redraw()

    # -- state ---------------------------------------------------------------------
    @property
    def channels(self) -> int:
        """Input channels: 0 for a plain 2-D image."""
        return self.image.shape[0] if self.image.ndim == 3 else 0

    @property
    def padded(self) -> np.ndarray:
        """The image with ``pad`` pixels added on every side (each channel alike)."""
        p = self.pad.value
        if p == 0:
            return self.image.copy()
        widths = ((0, 0), (p, p), (p, p)) if self.image.ndim == 3 else ((p, p), (p, p))
        np_mode = _NUMPY_PAD_MODE[self.mode.value]
        extra = {"constant_values": self.cval} if np_mode == "constant" else {}
        return np.pad(self.image, widths, mode=np_mode, **extra)

    @property
    def padding_mask(self) -> np.ndarray:
        """(H + 2 pad, W + 2 pad) booleans: True on the added pixels."""
        p = self.pad.value
        h, w = self.image.shape[-2:]
        mask = np.ones((h + 2 * p, w + 2 * p), dtype=bool)
        mask[p:p + h, p:p + w] = False
        return mask

    @property
    def output_shape(self) -> tuple[int, int]:
        """Rows and columns of the output: ``((H + 2p - kh) // s + 1, (W + 2p - kw) // s + 1)``."""
        (h, w), (kh, kw) = self.image.shape[-2:], self.kernel.shape[-2:]
        s, p = self.stride.value, self.pad.value
        return (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1

    @property
    def count(self) -> int:
        """How many positions the window visits."""
        rows, cols = self.output_shape
        return rows * cols

    @property
    def out_index(self) -> tuple[int, int]:
        """Where the current position writes in the output."""
        return divmod(self.step.value, self.output_shape[1])

    @property
    def position(self) -> tuple[int, int]:
        """Top-left pixel of the window in the padded image."""
        r, c = self.out_index
        return r * self.stride.value, c * self.stride.value

    @property
    def window(self) -> np.ndarray:
        """The (padded) pixels under the window, (kh, kw) or (C, kh, kw) (a copy)."""
        (r, c), (kh, kw) = self.position, self.kernel.shape[-2:]
        return self.padded[..., r:r + kh, c:c + kw].copy()

    @property
    def products(self) -> np.ndarray:
        """Pixel times kernel weight, at each place of the window."""
        return self.window * self.kernel

    @property
    def channel_sums(self) -> np.ndarray:
        """The sum of the products in each channel (one number for a 2-D image)."""
        p = self.products
        return p.sum(axis=(-2, -1)) if p.ndim == 3 else np.array([p.sum()])

    @property
    def total(self) -> float:
        """The sum of all products plus the bias: the output pixel at this position."""
        return float(self.products.sum()) + self.bias

    def output(self) -> np.ndarray:
        """The output so far: computed pixels, NaN where the window has not been yet."""
        rows, cols = self.output_shape
        out = np.full((rows, cols), np.nan)
        padded, (kh, kw), s = self.padded, self.kernel.shape[-2:], self.stride.value
        for k in range(self.step.value + 1):
            i, j = divmod(k, cols)
            window = padded[..., i * s:i * s + kh, j * s:j * s + kw]
            out[i, j] = float((window * self.kernel).sum()) + self.bias
        return out

    # -- drawing -------------------------------------------------------------------
    def redraw(self) -> None:
        self.view.value = self.to_html()

    def _describe_padding(self) -> str:
        p = self.pad.value
        if p == 0:
            return "no padding"
        how = (f"constant: filled with {self.cval:g}" if self.mode.value == "constant"
               else f"mode '{self.mode.value}'")
        return f"padded by {p} ({how}; added pixels striped, in italics)"

    def to_html(self) -> str:
        """The drawing as HTML tables (no matplotlib: it redraws instantly)."""
        from course.plotting import format_value

        padded, mask = self.padded, self.padding_mask
        (r0, c0), (kh, kw) = self.position, self.kernel.shape[-2:]
        lo, hi = float(padded.min()), float(padded.max())
        span = hi - lo if hi > lo else 1.0

        def num(v: float) -> str:
            return format_value(v, "{:.3g}")

        def grey(v: float) -> str:
            g = int(round(40 + 200 * (v - lo) / span))
            return f"background-color: rgb({g},{g},{g}); color: {'black' if g > 140 else 'white'};"

        cell = ("width: 2.3em; height: 2.1em; text-align: center; padding: 0; "
                "font-family: monospace; font-size: 12px; border: 1px solid #ccc;")
        stripes = ("background-image: repeating-linear-gradient(45deg, rgba(255,255,255,0.35) 0 "
                   "3px, rgba(0,0,0,0) 3px 7px); font-style: italic; border: 1px dashed #888;")

        def table(rows: list[str], caption: str) -> str:
            return (f"<div style='display: inline-block; vertical-align: top; margin: 0 18px 8px "
                    f"0'><div style='font-weight: bold; margin-bottom: 4px'>{caption}</div>"
                    f"<table style='border-collapse: collapse'>{''.join(rows)}</table></div>")

        def image_table(plane: np.ndarray, caption: str) -> str:
            rows = []
            for i, row in enumerate(plane):
                tds = []
                for j, v in enumerate(row):
                    style = cell + grey(v) + (stripes if mask[i, j] else "")
                    if r0 <= i < r0 + kh and c0 <= j < c0 + kw:  # one red frame round the window
                        red = "3px solid #d62728"
                        style += "".join(f"border-{side}: {red};" for side, edge in
                                         (("top", i == r0), ("bottom", i == r0 + kh - 1),
                                          ("left", j == c0), ("right", j == c0 + kw - 1)) if edge)
                    tds.append(f"<td class='{'padded' if mask[i, j] else 'pixel'}' "
                               f"style='{style}'>{num(v)}</td>")
                rows.append(f"<tr>{''.join(tds)}</tr>")
            return table(rows, caption)

        def products_table(window, kernel, products, caption: str) -> str:
            rows = []
            for i in range(kh):
                tds = []
                for j in range(kw):
                    p, k, x = products[i, j], kernel[i, j], window[i, j]
                    style = (f"{cell} width: 4.6em; background-color: "
                             f"{'#fde0dd' if p < 0 else '#deebf7' if p > 0 else '#f7f7f7'};"
                             + (stripes if mask[r0 + i, c0 + j] else ""))
                    tds.append(f"<td style='{style}'><span style='color:#666'>{num(x)}&times;"
                               f"{num(k)}</span><br><b>{num(p)}</b></td>")
                rows.append(f"<tr>{''.join(tds)}</tr>")
            return table(rows, caption)

        def kernel_table(kernel, caption: str) -> str:
            rows = ["<tr>" + "".join(f"<td style='{cell} background-color: #f3f0ff'>{num(v)}</td>"
                                     for v in row) + "</tr>" for row in kernel]
            return table(rows, caption)

        out = self.output()
        oi, oj = self.out_index
        out_rows = []
        for i, row in enumerate(out):
            tds = []
            for j, v in enumerate(row):
                here = (i, j) == (oi, oj)
                style = cell + ("outline: 3px solid #d62728; outline-offset: -3px; "
                                "background-color: #fff3bf;" if here else "")
                tds.append(f"<td style='{style}'>{'' if np.isnan(v) else num(v)}</td>")
            out_rows.append(f"<tr>{''.join(tds)}</tr>")

        rows, cols = self.output_shape
        window, products, sums = self.window, self.products, self.channel_sums
        bias = f" + bias {num(self.bias)}" if self.bias else ""
        parts = ["<div class='sliding-window-drawing'>"]
        if self.channels == 0:
            parts += [image_table(padded, "image and window" if not self.pad.value
                                  else "padded image and window"),
                      products_table(window, self.kernel, products, "pixel &times; weight"),
                      table(out_rows, "output so far")]
            total = f"sum of the products{bias} = <b>{num(self.total)}</b>"
        else:
            for c in range(self.channels):
                parts.append("<div class='sliding-window-channel'>"
                             + image_table(padded[c], f"channel {c}")
                             + kernel_table(self.kernel[c], f"kernel[{c}]")
                             + products_table(window[c], self.kernel[c], products[c],
                                              f"channel {c}: pixel &times; weight")
                             + f"<div style='display: inline-block; vertical-align: middle; "
                               f"margin-top: 2em'>sum = <b>{num(sums[c])}</b></div></div>")
            parts.append(table(out_rows, "output so far"))
            total = (" + ".join(num(s) for s in sums) + bias
                     + f" = <b>{num(self.total)}</b> (the channels' sums{', plus the bias' if bias else ''})")
        p = self.pad.value
        parts.append(
            f"<div style='margin-top: 6px'>Position {self.step.value + 1} of {self.count}: "
            f"window at row {r0 - p}, column {c0 - p} of the image "
            f"(row {r0}, column {c0} of the padded one) &rarr; output [{oi}, {oj}] = {total}. "
            f"Output shape ({rows}, {cols}) with stride {self.stride.value}, "
            f"{html.escape(self._describe_padding())}.</div></div>")
        return "".join(parts)

    def static_png(self) -> bytes:
        """The current position drawn with matplotlib, as a PNG (for HTML export)."""
        from matplotlib.patches import Rectangle

        from course.plotting import format_value

        padded, mask = self.padded, self.padding_mask
        (r0, c0), (kh, kw) = self.position, self.kernel.shape[-2:]
        planes = [padded] if self.channels == 0 else list(padded)
        kernels = [self.kernel] if self.channels == 0 else list(self.kernel)
        windows = [self.window] if self.channels == 0 else list(self.window)
        out = self.output()
        ph, pw = padded.shape[-2:]
        oh, ow = out.shape
        rows = len(planes)
        unit = 0.3  # inches per cell
        band = max(ph, oh if rows == 1 else 0) + 1.4  # a row of panels, with its titles
        width = unit * (pw + 2 * kw + ow + 5)
        height = unit * band * rows + 0.55
        fig = _figure(max(width, 6.5), height)
        lo, hi = float(padded.min()), float(padded.max())
        span = hi - lo if hi > lo else 1.0

        def text_of(v: float) -> str:
            return "" if np.isnan(v) else format_value(v, "{:.3g}")

        def cells(ax, values, colour, hatch=None, frame=None, title="", here=None):
            h, w = values.shape
            for (i, j), v in np.ndenumerate(values):
                face = (1.0, 0.95, 0.75) if (i, j) == here else colour(v)
                hatched = hatch is not None and bool(hatch[i, j])
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=face, edgecolor="#bbb", lw=0.6,
                                       hatch="///" if hatched else None))
                light = sum(face[:3]) / 3 > 0.55
                ax.text(j + 0.5, i + 0.5, text_of(v), ha="center", va="center", fontsize=7,
                        color="black" if light else "white",
                        style="italic" if hatched else "normal")
            if here is not None:
                frame = (here[0], here[1], 1, 1)
            if frame is not None:
                fr, fc, fh, fw = frame
                ax.add_patch(Rectangle((fc, fr), fw, fh, fill=False, edgecolor="#d62728", lw=2.2))
            ax.set_xlim(-0.1, w + 0.1)
            ax.set_ylim(h + 0.1, -0.1)
            ax.set_aspect("equal")
            ax.set_anchor("N")
            ax.set_axis_off()
            ax.set_title(title, fontsize=8)

        def grey(v):
            g = 0.16 + 0.78 * (v - lo) / span
            return (g, g, g)

        def signed(v):
            return (0.99, 0.88, 0.87) if v < 0 else (0.87, 0.92, 0.97) if v > 0 else (0.97,) * 3

        grid = fig.add_gridspec(rows, 4, width_ratios=[pw, kw, kw, ow], wspace=0.3, hspace=0.25,
                                left=0.02, right=0.98, top=1 - 0.3 / height,
                                bottom=0.5 / height)
        sums = self.channel_sums
        for c in range(rows):
            name = "image" if self.channels == 0 else f"channel {c}"
            cells(fig.add_subplot(grid[c, 0]), planes[c], grey, hatch=mask, frame=(r0, c0, kh, kw),
                  title=name + (" (padding hatched)" if self.pad.value else ""))
            cells(fig.add_subplot(grid[c, 1]), kernels[c], lambda v: (0.95, 0.94, 1.0),
                  title="kernel" if self.channels == 0 else f"kernel[{c}]")
            cells(fig.add_subplot(grid[c, 2]), windows[c] * kernels[c], signed,
                  hatch=mask[r0:r0 + kh, c0:c0 + kw],
                  title=f"pixel x weight, sum {format_value(sums[c], '{:.4g}')}")
        here = self.out_index
        cells(fig.add_subplot(grid[:, 3] if rows > 1 else grid[0, 3]), out,
              lambda v: (1.0, 1.0, 1.0), title="output so far", here=here)
        total = " + ".join(format_value(v, "{:.4g}") for v in sums)
        if self.bias:
            total += f" + bias {format_value(self.bias, '{:.4g}')}"
        if self.channels or self.bias:
            total += f" = {format_value(self.total, '{:.4g}')}"
        note = (f"position {self.step.value + 1} of {self.count}: output [{here[0]}, {here[1]}] = "
                f"{total}; stride {self.stride.value}, {self._describe_padding()}")
        fig.text(0.02, 0.12 / height, _wrap(note, int(13 * max(width, 6.5))), fontsize=8,
                 va="bottom")
        return _figure_png(fig, tight=True)

    # -- events --------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if not self._hold:
            self.redraw()

    def _on_shape(self, change) -> None:
        self._hold = True
        try:
            last = self.count - 1
            if self.step.value > last:
                self.step.value = last
            self.step.max = last
            self.play.max = last
            if self.play.value > last:
                self.play.value = last
        finally:
            self._hold = False
        self.redraw()


def sliding_window_explorer(image=None, kernel=None, *, pad: int = 0, mode: str = "constant",
                            stride: int = 1, cval: float = 0.0, bias: float = 0.0,
                            channels: int | None = None) -> SlidingWindowExplorer:
    """Watch a kernel slide across a small image, one position at a time.

    Parameters
    ----------
    image : array_like, optional
        A small 2-D image, or a (C, H, W) stack of C channels (at most 16 pixels a side,
        4 channels); an 8x8 picture with a bright block by default.
    kernel : array_like, optional
        The kernel (at most 7x7), (C, kh, kw) for a C-channel image: one slice per
        channel; the edge kernel (8 in the middle, -1 around) by default.
    pad : int
        Pixels added on every side first (0 to 3; a slider in the panel).
    mode : str
        How the added pixels are filled: a ``scipy.ndimage`` border mode (a menu in the
        panel); ``constant`` fills them with ``cval``.
    stride : int
        Pixels between two positions (1 to 3; a slider).
    cval : float
        The value of ``constant`` padding.
    bias : float
        Added to each output pixel (a layer's bias).
    channels : int, optional
        With no ``image``: a CS231n-style example of this many channels of 5x5 small
        whole numbers, a (C, 3, 3) kernel.

    Returns
    -------
    SlidingWindowExplorer
        Displaying it shows the panel: a position slider (and a play button), the stride,
        pad and border controls, the window on the (padded) image, the products, their
        sums and the output.
    """
    return SlidingWindowExplorer(image, kernel, pad=pad, mode=mode, stride=stride, cval=cval,
                                 bias=bias, channels=channels)


# -------------------------------------------------------------------------------------
# Slider figures that animate: a training run, frame by frame
# -------------------------------------------------------------------------------------

class FrameViewer(_Displayable):
    """A slider and a play button over the frames of one matplotlib figure.

    The figure is made once; each frame only updates its artists (``set_data``,
    ``set_text``...) through ``update(i)``, is drawn by Agg and sent as a PNG to an
    ``ipywidgets.Image``. Frames already drawn are kept (up to 256), so going back is
    instant. No matplotlib widget backend (ipympl) is needed.

    Attributes
    ----------
    slider : ipywidgets.IntSlider
    play : ipywidgets.Play
    image : ipywidgets.Image
    widget : ipywidgets.VBox
    figure : matplotlib.figure.Figure
    limit : float
        The colour limit, fixed over all frames.
    """

    _CACHE = 256

    def __init__(self, figure, update: Callable[[int], None], count: int, value: int = 0,
                 label: str = "step", limit: float = 1.0, interval: int = 250):
        import ipywidgets as w

        if count < 1:
            raise ValueError("a viewer needs at least one frame")
        if not 0 <= value < count:
            raise ValueError(f"value must be a frame from 0 to {count - 1}, got {value!r}")
        self.figure = figure
        self._update = update
        self.count = count
        self.limit = limit
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self.renders = 0
        self.slider = w.IntSlider(value=value, min=0, max=count - 1, description=label,
                                  continuous_update=True, layout=w.Layout(width="420px"))
        self.play = w.Play(value=value, min=0, max=count - 1, interval=interval,
                           description="play")
        w.jslink((self.play, "value"), (self.slider, "value"))
        self.image = w.Image(format="png", layout=w.Layout(width="auto", height="auto"))
        for widget, name in ((self.slider, "slider"), (self.play, "play"), (self.image, "image")):
            widget.add_class(f"frame-viewer-{name}")
        self.widget = w.VBox([w.HBox([self.play, self.slider]), self.image])
        self.widget.add_class("frame-viewer")
        self.slider.observe(self._on_value, names="value")
        self.show(value)

    def frame_png(self, i: int) -> bytes:
        """Frame ``i`` as PNG bytes (drawn once, then kept)."""
        if not 0 <= i < self.count:
            raise ValueError(f"frame {i} is outside 0..{self.count - 1}")
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        self._update(i)
        data = _figure_png(self.figure)
        self.renders += 1
        self._cache[i] = data
        if len(self._cache) > self._CACHE:
            self._cache.popitem(last=False)
        return data

    def show(self, i: int) -> None:
        """Put frame ``i`` in the picture."""
        self.image.value = self.frame_png(i)

    def static_png(self) -> bytes:
        return self.frame_png(self.slider.value)

    def _on_value(self, change) -> None:
        self.show(int(change["new"]))


def _fixed_limit(arrays, limit: float | None) -> float:
    if limit is not None:
        if not float(limit) > 0:
            raise ValueError(f"limit must be positive, got {limit!r}")
        return float(limit)
    m = max(float(np.max(np.abs(a))) for a in arrays)
    return m if m > 0 else 1.0


def _loss_axes(ax, losses: np.ndarray, xs: np.ndarray, log_loss: bool, xlabel: str):
    """The loss curve in grey, and the artists that follow the slider."""
    plot = ax.semilogy if log_loss and np.all(losses > 0) else ax.plot
    plot(xs, losses, color="0.8", lw=1.5, marker="o" if len(xs) <= 40 else None, ms=3)
    (done,) = plot(xs[:1], losses[:1], color="C0", lw=2, marker="o" if len(xs) <= 40 else None,
                   ms=3)
    (here,) = ax.plot([xs[0]], [losses[0]], "o", color="C3", ms=7, zorder=3)
    line = ax.axvline(xs[0], color="C3", lw=1)
    ax.set_xlim(min(0, xs[0]) - 0.5, xs[-1] + 0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")

    def follow(frame: int) -> str:
        upto = xs <= frame
        done.set_data(xs[upto], losses[upto])
        line.set_xdata([frame, frame])
        if upto.any():
            j = int(np.flatnonzero(upto)[-1])
            here.set_data([xs[j]], [losses[j]])
            here.set_visible(True)
            return f"loss = {losses[j]:.4g}" + ("" if xs[j] == frame else f" (at {xlabel} {xs[j]})")
        here.set_visible(False)
        return ""

    return follow


def _losses(losses, name: str = "losses") -> np.ndarray:
    a = np.asarray(losses, dtype=float).ravel()
    if a.size == 0 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers")
    return a


def _captions(captions, count: int) -> list[str] | None:
    if captions is None:
        return None
    captions = [str(c) for c in captions]
    if len(captions) != count:
        raise ValueError(f"got {len(captions)} captions for {count} frames")
    return captions


def step_viewer(kernels, losses, *, value: int | None = None, fmt: str = "{:.2f}",
                log_loss: bool = True, xlabel: str = "step", captions=None,
                limit: float | None = None) -> FrameViewer:
    """Step through gradient descent: the kernel after each step and the loss curve.

    Parameters
    ----------
    kernels : sequence of array_like
        ``kernels[i]`` is the (kh, kw) kernel after ``i`` steps (``kernels[0]`` the
        start).
    losses : sequence of float
        ``losses[i]`` is the loss of ``kernels[i]`` (the loss before update ``i``); it may
        be one shorter than ``kernels`` (the last kernel's loss not computed).
    value : int, optional
        The frame shown first (the last one by default).
    fmt : str
        Format of the weights written in the cells (``" "``: none). A weight that rounds
        to zero is written without a minus sign.
    log_loss : bool
        Draw the loss on a log scale (when all losses are positive).
    xlabel : str
        What a frame is called: "step".
    captions : sequence of str, optional
        One line written over each frame.
    limit : float, optional
        The colour limit of the kernel; by default the largest |weight| over all frames,
        so the colours mean the same thing at every step.

    Returns
    -------
    FrameViewer
        Display it; ``.slider`` selects the step.
    """
    from matplotlib.colors import Normalize

    from course.plotting import format_value

    frames = [np.asarray(k, dtype=float) for k in kernels]
    if not frames or any(k.ndim != 2 or k.shape != frames[0].shape for k in frames):
        raise ValueError("kernels must be a non-empty sequence of 2-D kernels of one shape")
    loss = _losses(losses)
    if not len(frames) - 1 <= loss.size <= len(frames):
        raise ValueError(f"got {loss.size} losses for {len(frames)} kernels: give one per "
                         "kernel (or one fewer, without the last)")
    count = len(frames)
    captions = _captions(captions, count)
    value = count - 1 if value is None else int(value)
    m = _fixed_limit(frames, limit)
    kh, kw = frames[0].shape
    fig = _figure(8.4, 3.3 + (0.3 if captions else 0))
    grid = fig.add_gridspec(1, 2, width_ratios=[1, 1.7], left=0.03, right=0.98, bottom=0.16,
                            top=0.84 if captions else 0.88, wspace=0.25)
    ax_k = fig.add_subplot(grid[0])
    ax_l = fig.add_subplot(grid[1])
    norm = Normalize(-m, m)
    import matplotlib

    cmap = matplotlib.colormaps["RdBu_r"]
    picture = ax_k.imshow(frames[0], cmap=cmap, norm=norm, interpolation="nearest")
    ax_k.set_xticks([])
    ax_k.set_yticks([])
    texts = [[ax_k.text(j, i, "", ha="center", va="center", fontsize=9 if max(kh, kw) <= 5 else 7)
              for j in range(kw)] for i in range(kh)] if kh * kw <= 81 else []
    bar = fig.colorbar(picture, ax=ax_k, fraction=0.046, pad=0.04)
    bar.ax.tick_params(labelsize=7)
    ax_k.text(0.5, -0.04, f"colour scale fixed over all {xlabel}s: ±{format_value(m)}",
              transform=ax_k.transAxes, ha="center", va="top", fontsize=7.5)
    k_title = ax_k.set_title("", fontsize=10)
    follow = _loss_axes(ax_l, loss, np.arange(loss.size), log_loss, xlabel)
    l_title = ax_l.set_title("", fontsize=10)
    caption = fig.suptitle("", fontsize=10) if captions else None

    def update(i: int) -> None:
        k = frames[i]
        picture.set_data(k)
        tiny = 1e-9 * m
        for r, row in enumerate(texts):
            for c, t in enumerate(row):
                red, green, blue, _ = cmap(norm(k[r, c]))
                t.set_text(format_value(k[r, c], fmt, tiny))
                t.set_color("black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white")
        k_title.set_text(f"kernel after {i} {xlabel}{'' if i == 1 else 's'}")
        l_title.set_text(follow(i))
        if caption is not None:
            caption.set_text(captions[i])

    return FrameViewer(fig, update, count, value=value, label=xlabel, limit=m)


def kernel_history_viewer(weights, losses, *, order=None, titles=None, captions=None,
                          value: int | None = None, xlabel: str = "epoch",
                          limit: float | None = None, log_loss: bool = False) -> FrameViewer:
    """Step through the epochs of training a filter bank: its kernels and the loss.

    Parameters
    ----------
    weights : sequence of array_like
        ``weights[e]`` is the bank after ``e`` epochs, shape (F, C, kh, kw) with C = 1
        (drawn on a diverging map) or C = 3 (drawn in colour: 0.5 + 0.5 w / limit per
        channel), or (F, kh, kw).
    losses : sequence of float
        ``losses[e]`` is the loss of epoch ``e + 1`` (drawn at x = e + 1).
    order : sequence of int, optional
        Which filters to draw, in which order (at most 16); all by default.
    titles : sequence of str, optional
        A title per drawn filter.
    captions : sequence of str, optional
        One line per frame, written over it ("average R² = 0.62").
    value : int, optional
        The frame shown first (the last one by default).
    xlabel : str
        What a frame is called: "epoch".
    limit : float, optional
        The colour limit; by default the largest |weight| of the drawn filters over all
        epochs: one fixed scale, so kernels that grow look stronger.
    log_loss : bool
        Draw the loss on a log scale.

    Returns
    -------
    FrameViewer
    """
    import matplotlib
    from matplotlib.colors import Normalize

    from course.plotting import format_value

    frames = [np.asarray(w_, dtype=float) for w_ in weights]
    if not frames:
        raise ValueError("weights must hold at least one bank of filters")
    frames = [f[:, None] if f.ndim == 3 else f for f in frames]
    shape = frames[0].shape
    if len(shape) != 4 or shape[1] not in (1, 3) or any(f.shape != shape for f in frames):
        raise ValueError(f"each weights[e] must have one shape (F, 1 or 3, kh, kw), got "
                         f"{[f.shape for f in frames[:3]]}...")
    order = list(range(shape[0])) if order is None else [int(f) for f in order]
    if not order or len(order) > 16 or not all(0 <= f < shape[0] for f in order):
        raise ValueError(f"order must pick 1 to 16 of the {shape[0]} filters, got {order}")
    if titles is not None and len(titles) != len(order):
        raise ValueError(f"got {len(titles)} titles for {len(order)} filters")
    loss = _losses(losses)
    count = len(frames)
    captions = _captions(captions, count)
    value = count - 1 if value is None else int(value)
    chosen = [f[order] for f in frames]
    m = _fixed_limit(chosen, limit)
    n = len(order)
    colour = shape[1] == 3
    fig = _figure(max(6.0, 1.45 * n + 0.6), 3.6 + (0.25 if titles else 0))
    grid = fig.add_gridspec(2, n, height_ratios=[1, 1.15], left=0.06, right=0.99 if colour else 0.93,
                            bottom=0.14, top=0.86, hspace=0.45, wspace=0.12)
    cmap = matplotlib.colormaps["RdBu_r"]
    norm = Normalize(-m, m)

    def picture_of(bank_f: np.ndarray) -> np.ndarray:
        if colour:
            return np.clip(0.5 + 0.5 * bank_f.transpose(1, 2, 0) / m, 0, 1)
        return bank_f[0]

    pictures = []
    for col in range(n):
        ax = fig.add_subplot(grid[0, col])
        pictures.append(ax.imshow(picture_of(chosen[0][col]), cmap=None if colour else cmap,
                                  norm=None if colour else norm, interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[col]), fontsize=8)
    if not colour:
        cax = fig.add_axes((0.945, 0.56, 0.012, 0.28))
        bar = fig.colorbar(pictures[0], cax=cax)
        bar.ax.tick_params(labelsize=7)
    ax_l = fig.add_subplot(grid[1, :])
    follow = _loss_axes(ax_l, loss, np.arange(1, loss.size + 1), log_loss, xlabel)
    head = fig.suptitle("", fontsize=10)
    scale = f"colour scale fixed over all {xlabel}s: ±{format_value(m)}"

    def update(e: int) -> None:
        for col, artist in enumerate(pictures):
            artist.set_data(picture_of(chosen[e][col]))
        parts = [f"after {e} {xlabel}{'' if e == 1 else 's'}"]
        if captions:
            parts.append(captions[e])
        loss_text = follow(e)
        if loss_text:
            parts.append(loss_text)
        head.set_text(":  ".join(parts[:1]) + ("  |  " if len(parts) > 1 else "")
                      + "  |  ".join(parts[1:]) + f"\n{scale}")

    return FrameViewer(fig, update, count, value=value, label=xlabel, limit=m)
