"""Interactive explorers for the notebooks (ipywidgets).

``kernel_explorer(image=None, size=3)``
    One slider per kernel weight, presets, the boundary mode and a normalise switch;
    the photograph and its filtered version side by side, redrawn as a slider moves.
``sliding_window_explorer(image=None, kernel=None)``
    Steps a kernel across a small image: the window, its products, their sum and the
    output filling in, with a stride control.

Each explorer is a small class that keeps the state and computes (tests drive it by
setting ``.value`` on its widgets, no browser needed) and a thin panel, ``.widget``,
that a notebook displays. Displaying the explorer object itself shows the panel.
"""

from __future__ import annotations

import html
import struct
import zlib

import numpy as np

__all__ = [
    "MODES",
    "KernelExplorer",
    "SlidingWindowExplorer",
    "kernel_explorer",
    "png_bytes",
    "presets",
    "sliding_window_explorer",
]

#: The boundary modes of ``scipy.ndimage``, the default first.
MODES = ("reflect", "mirror", "nearest", "wrap", "constant")

# Tables of numbers, typed by hand. The Gaussian presets are the binomial tables
# [1 2 1] x [1 2 1] / 16 and [1 4 6 4 1] x [1 4 6 4 1] / 256 (close to sigma 0.85 and 1).
# Sobel, sharpen and emboss are written for convolution (scipy.ndimage.convolve), the
# operation the explorer applies: Sobel x is then bright where the image gets brighter
# to the right.
_PRESETS_3 = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "blur": [[1 / 9] * 3] * 3,
    "Gaussian": [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Sobel x": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "Sobel y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
_GAUSSIAN_5 = [[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, 36, 24, 6], [4, 16, 24, 16, 4],
               [1, 4, 6, 4, 1]]

CUSTOM = "custom"


def presets(size: int = 3) -> dict[str, np.ndarray]:
    """Return the explorer's preset kernels of shape ``(size, size)``, by name.

    For ``size=5`` the 3x3 presets sit in the middle of a 5x5 table of zeros (they
    filter exactly as before), except the blur (all 1/25) and the Gaussian (5x5 table).
    """
    if size not in (3, 5):
        raise ValueError(f"size must be 3 or 5, got {size!r}")
    out = {name: np.array(k, dtype=float) for name, k in _PRESETS_3.items()}
    if size == 5:
        out = {name: np.pad(k, 1) for name, k in out.items()}
        out["blur"] = np.full((5, 5), 1 / 25)
        out["Gaussian"] = np.array(_GAUSSIAN_5, dtype=float) / 256
    return out


def png_bytes(grey: np.ndarray, level: int = 1) -> bytes:
    """Encode a 2-D ``uint8`` array as a greyscale PNG.

    zlib only; Huffman coding without string matching, which is several times faster
    than the default for photographs and nearly as small.
    """
    a = np.asarray(grey)
    if a.ndim != 2 or a.dtype != np.uint8:
        raise ValueError(f"png_bytes needs a 2-D uint8 array, got {a.ndim}-D {a.dtype}")
    height, width = a.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 on every row
    raw[:, 1:] = a

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", _deflate(raw.tobytes(), level)) + chunk(b"IEND", b""))


def _deflate(data: bytes, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    return packer.compress(data) + packer.flush()


def _as_image(image, name: str, max_side: int | None = None) -> np.ndarray:
    a = np.array(image, dtype=np.float64)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D (grey) array, got shape {a.shape}; "
                         "for the photograph use course.photo(grey=True)")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if max_side is not None and max(a.shape) > max_side:
        raise ValueError(f"{name} is {a.shape[0]}x{a.shape[1]}: at most {max_side} pixels a "
                         "side fit in the explorer; crop it")
    return a


def _is_zero_sum(kernel: np.ndarray) -> bool:
    return abs(float(kernel.sum())) <= 1e-9 * max(1.0, float(np.abs(kernel).sum()))


def _kernel_text(kernel: np.ndarray) -> str:
    rows = ",\n              ".join(
        "[" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in kernel)
    return f"np.array([{rows}])"


class KernelExplorer:
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
    text : ipywidgets.HTML
        The current kernel as Python text, to paste into a cell.
    original, output : ipywidgets.Image
        The image and the filtered image (PNG).
    widget : ipywidgets.VBox
        The panel.
    """

    def __init__(self, image=None, size: int = 3, preset: str = "edge", width: int = 320):
        import ipywidgets as w

        from course.images import photo

        if size not in (3, 5):
            raise ValueError(f"size must be 3 or 5, got {size!r}")
        self.image = photo(grey=True) if image is None else _as_image(image, "image")
        self._image_scale = max(1.0, float(np.abs(self.image).max()))
        self.size = size
        self._presets = presets(size)
        if preset not in self._presets:
            raise ValueError(f"unknown preset {preset!r}; choose one of {list(self._presets)}")
        self._hold = False
        self.last_display = ""
        self.redraws = 0

        # step=None: the browser must not snap weights to a grid (a step of 0.01 would
        # turn the blur's 1/9 into 0.11 and send that back; the blur would darken).
        slider_layout = w.Layout(width="200px" if size == 3 else "165px")
        self.sliders = [[w.FloatSlider(value=0.0, min=-10.0, max=10.0, step=None,
                                       readout_format=".3f", continuous_update=True,
                                       layout=slider_layout, description="")
                         for _ in range(size)] for _ in range(size)]
        self.preset = w.Dropdown(options=[CUSTOM, *self._presets], value=CUSTOM,
                                 description="preset")
        self.mode = w.Dropdown(options=list(MODES), value="reflect", description="border")
        self.normalise = w.Checkbox(value=False, description="normalise (divide by the sum)",
                                    indent=False)
        self.text = w.HTML()
        self.info = w.HTML(layout=w.Layout(width=f"{width}px"))
        image_layout = w.Layout(width=f"{width}px", height="auto", flex="0 0 auto")
        self.original = w.Image(format="png", layout=image_layout)
        self.output = w.Image(format="png", layout=image_layout)
        for widget, name in [(self.preset, "preset"), (self.mode, "mode"),
                             (self.normalise, "normalise"), (self.text, "text"),
                             (self.original, "original"), (self.output, "output")]:
            widget.add_class(f"kernel-explorer-{name}")
        for i, row in enumerate(self.sliders):
            for j, s in enumerate(row):
                s.add_class("kernel-explorer-weight")
                s.add_class(f"kernel-explorer-weight-{i}-{j}")

        self.original.value = png_bytes(self._to_u8(self.image, signed=False))
        self.select(preset)

        for row in self.sliders:
            for s in row:
                s.observe(self._on_weight, names="value")
        self.preset.observe(self._on_preset, names="value")
        self.mode.observe(self._on_change, names="value")
        self.normalise.observe(self._on_change, names="value")

        grid = w.GridBox([s for row in self.sliders for s in row],
                         layout=w.Layout(grid_template_columns=f"repeat({size}, auto)",
                                         grid_gap="2px 12px", width="max-content"))
        header = w.HBox([self.preset, self.mode, self.normalise],
                        layout=w.Layout(flex_flow="row wrap", align_items="center"))
        pictures = w.HBox([
            w.VBox([w.HTML("<b>image</b>"), self.original]),
            w.VBox([w.HTML("<b>convolved with the kernel</b>"), self.output, self.info]),
        ], layout=w.Layout(grid_gap="12px"))
        self.widget = w.VBox([header, grid, self.text, pictures])
        self.widget.add_class("kernel-explorer")

    # -- state ---------------------------------------------------------------------
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

    def filtered(self) -> np.ndarray:
        """The image convolved with :attr:`kernel` (``scipy.ndimage.convolve``, the mode)."""
        from scipy.ndimage import convolve

        return convolve(self.image, self.kernel, mode=self.mode.value)

    # -- drawing -------------------------------------------------------------------
    @staticmethod
    def _to_u8(values: np.ndarray, signed: bool, noise: float = 0.0) -> np.ndarray:
        """Grey levels: signed on [-m, m] (zero grey; |values| <= noise is all grey) or [0, 1]."""
        if signed:
            m = float(np.abs(values).max())
            scaled = values * (0.5 / m) if m > noise else np.zeros(values.shape)
            scaled += 0.5
        else:
            scaled = np.clip(values, 0.0, 1.0)
        scaled *= 255.0
        scaled += 0.5
        return scaled.astype(np.uint8)

    def redraw(self) -> None:
        """Filter the image and update the picture, the kernel text and the note."""
        kernel = self.kernel
        response = self.filtered()
        signed = _is_zero_sum(kernel)
        # rounding errors of a flat response (8v - v - ... - v) are not drawn as edges
        noise = 1e-12 * self._image_scale * float(np.abs(kernel).sum())
        self.output.value = png_bytes(self._to_u8(response, signed, noise))
        if signed:
            m = float(np.abs(response).max())
            if m <= noise:
                note = "The weights sum to 0 and the response is 0 everywhere: all mid-grey."
            else:
                note = (f"The weights sum to 0: a signed response, drawn with 0 as mid-grey, "
                        f"-{m:.3g} black and +{m:.3g} white.")
        else:
            low = float((response < 0).mean())
            high = float((response > 1).mean())
            note = f"Drawn on [0, 1]; the kernel sums to {kernel.sum():.4g}."
            if low + high > 0.001:
                note += (f" {100 * low:.1f}% of pixels are below 0 (black) and "
                         f"{100 * high:.1f}% above 1 (white).")
        self.last_display = "signed" if signed else "clipped"
        self.info.value = f"<small>{html.escape(note)}</small>"
        self.text.value = (f"<pre style='font-size: 11px; line-height: 1.2'>"
                           f"{html.escape(_kernel_text(kernel))}</pre>")
        self.redraws += 1

    # -- events --------------------------------------------------------------------
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
        if not self._hold:
            self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"KernelExplorer(size={self.size}, preset={self.preset.value!r}, "
                f"mode={self.mode.value!r}, normalise={self.normalise.value},\n"
                f"kernel={_kernel_text(self.kernel)})")


def kernel_explorer(image=None, size: int = 3, preset: str = "edge") -> KernelExplorer:
    """Explore kernels with one slider per weight, on the photograph or your image.

    Parameters
    ----------
    image : array_like, optional
        A 2-D grey image; the photograph (``course.photo()``) by default.
    size : {3, 5}
        The kernel is ``size x size``.
    preset : str
        The preset loaded first: identity, edge, blur, Gaussian, sharpen, Sobel x,
        Sobel y or emboss.

    Returns
    -------
    KernelExplorer
        Displaying it shows the panel; ``.kernel`` is the current kernel (a copy) and
        ``.filtered()`` the filtered image.

    Notes
    -----
    The image is *convolved* (``scipy.ndimage.convolve``) with the kernel. When the
    weights sum to zero the response is signed and drawn with zero as mid-grey;
    otherwise it is drawn on [0, 1] and the note under it says how much was clipped.
    """
    return KernelExplorer(image, size=size, preset=preset)


# -------------------------------------------------------------------------------------
# The sliding window
# -------------------------------------------------------------------------------------

def _default_small_image() -> np.ndarray:
    image = np.zeros((8, 8))
    image[2:6, 3:] = 9.0  # a bright block: a vertical edge, two horizontal ones
    image[6:, :2] = 3.0
    return image


_SEED_EDGE = np.array(_PRESETS_3["edge"], dtype=float)


class SlidingWindowExplorer:
    """The state and drawing of the sliding-window explorer.

    The window sits at the valid positions only (where it fits inside the image), in
    row-major order, ``stride`` pixels apart; the output is the valid cross-correlation
    ``scipy.signal.correlate2d(image, kernel, 'valid')[::stride, ::stride]``.

    Attributes
    ----------
    step : ipywidgets.IntSlider
        Which position the window is at (0 is the top-left one).
    stride : ipywidgets.IntSlider
        Pixels between two positions, 1 to 3.
    view : ipywidgets.HTML
        The drawing: image with window, products, sum, output so far.
    widget : ipywidgets.VBox
        The panel.
    """

    def __init__(self, image=None, kernel=None):
        import ipywidgets as w

        self.image = _default_small_image() if image is None else _as_image(image, "image", 16)
        self.kernel = (_SEED_EDGE.copy() if kernel is None
                       else _as_image(kernel, "kernel", 7))
        kh, kw = self.kernel.shape
        if kh > self.image.shape[0] or kw > self.image.shape[1]:
            raise ValueError(f"kernel {self.kernel.shape} does not fit inside image "
                             f"{self.image.shape}")
        self._hold = False
        self.stride = w.IntSlider(value=1, min=1, max=3, description="stride",
                                  continuous_update=True)
        self.step = w.IntSlider(value=0, min=0, max=self.count - 1, description="position",
                                continuous_update=True)
        self.play = w.Play(value=0, min=0, max=self.count - 1, interval=700,
                           description="play")
        w.jslink((self.play, "value"), (self.step, "value"))
        w.jslink((self.play, "max"), (self.step, "max"))
        self.view = w.HTML()
        self.step.add_class("sliding-window-step")
        self.stride.add_class("sliding-window-stride")
        self.view.add_class("sliding-window-view")
        self.step.observe(self._on_change, names="value")
        self.stride.observe(self._on_stride, names="value")
        self.widget = w.VBox([w.HBox([self.play, self.step, self.stride]), self.view])
        self.redraw()

    # -- state ---------------------------------------------------------------------
    @property
    def output_shape(self) -> tuple[int, int]:
        """Rows and columns of the output: ``((H - kh) // s + 1, (W - kw) // s + 1)``."""
        (h, w), (kh, kw), s = self.image.shape, self.kernel.shape, self.stride.value
        return (h - kh) // s + 1, (w - kw) // s + 1

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
        """Top-left pixel of the window in the image."""
        r, c = self.out_index
        return r * self.stride.value, c * self.stride.value

    @property
    def window(self) -> np.ndarray:
        """The pixels under the window (a copy)."""
        (r, c), (kh, kw) = self.position, self.kernel.shape
        return self.image[r:r + kh, c:c + kw].copy()

    @property
    def products(self) -> np.ndarray:
        """Pixel times kernel weight, at each place of the window."""
        return self.window * self.kernel

    @property
    def total(self) -> float:
        """The sum of the products: the output pixel at this position."""
        return float(self.products.sum())

    def output(self) -> np.ndarray:
        """The output so far: computed pixels, NaN where the window has not been yet."""
        rows, cols = self.output_shape
        out = np.full((rows, cols), np.nan)
        (kh, kw), s = self.kernel.shape, self.stride.value
        for k in range(self.step.value + 1):
            i, j = divmod(k, cols)
            out[i, j] = float((self.image[i * s:i * s + kh, j * s:j * s + kw] * self.kernel).sum())
        return out

    # -- drawing -------------------------------------------------------------------
    def redraw(self) -> None:
        self.view.value = self.to_html()

    def to_html(self) -> str:
        """The drawing as HTML tables (no matplotlib: it redraws instantly)."""
        (r0, c0), (kh, kw) = self.position, self.kernel.shape
        lo, hi = float(self.image.min()), float(self.image.max())
        span = hi - lo if hi > lo else 1.0

        def grey(v: float) -> str:
            g = int(round(40 + 200 * (v - lo) / span))
            return f"background: rgb({g},{g},{g}); color: {'black' if g > 140 else 'white'};"

        cell = ("width: 2.3em; height: 2.1em; text-align: center; padding: 0; "
                "font-family: monospace; font-size: 12px; border: 1px solid #ccc;")

        def table(rows: list[str], caption: str) -> str:
            return (f"<div style='display: inline-block; vertical-align: top; margin-right: "
                    f"18px'><div style='font-weight: bold; margin-bottom: 4px'>{caption}</div>"
                    f"<table style='border-collapse: collapse'>{''.join(rows)}</table></div>")

        img_rows = []
        for i, row in enumerate(self.image):
            tds = []
            for j, v in enumerate(row):
                border = ""
                if r0 <= i < r0 + kh and c0 <= j < c0 + kw:  # one red frame round the window
                    red = "3px solid #d62728"
                    border = "".join(f"border-{side}: {red};" for side, edge in
                                     (("top", i == r0), ("bottom", i == r0 + kh - 1),
                                      ("left", j == c0), ("right", j == c0 + kw - 1)) if edge)
                tds.append(f"<td style='{cell}{grey(v)}{border}'>{v + 0.0:.3g}</td>")
            img_rows.append(f"<tr>{''.join(tds)}</tr>")

        prod_rows = []
        for i in range(kh):
            tds = []
            for j in range(kw):
                p, k, x = (v + 0.0 for v in (self.products[i, j], self.kernel[i, j],
                                             self.window[i, j]))  # + 0.0: no "-0"
                tds.append(f"<td style='{cell} width: 4.6em; background: "
                           f"{'#fde0dd' if p < 0 else '#deebf7' if p > 0 else '#f7f7f7'}'>"
                           f"<span style='color:#666'>{x:.3g}&times;{k:.3g}</span><br>"
                           f"<b>{p:.3g}</b></td>")
            prod_rows.append(f"<tr>{''.join(tds)}</tr>")

        out = self.output()
        oi, oj = self.out_index
        out_rows = []
        for i, row in enumerate(out):
            tds = []
            for j, v in enumerate(row):
                here = (i, j) == (oi, oj)
                style = cell + ("outline: 3px solid #d62728; outline-offset: -3px; "
                                "background: #fff3bf;" if here else "")
                tds.append(f"<td style='{style}'>{'' if np.isnan(v) else f'{v + 0.0:.3g}'}</td>")
            out_rows.append(f"<tr>{''.join(tds)}</tr>")

        rows, cols = self.output_shape
        summary = (f"<div style='margin-top: 6px'>Position {self.step.value + 1} of "
                   f"{self.count}: window at row {r0}, column {c0} &rarr; output "
                   f"[{oi}, {oj}] = sum of the products = <b>{self.total + 0.0:.4g}</b>. "
                   f"Output shape ({rows}, {cols}) with stride {self.stride.value}.</div>")
        return ("<div class='sliding-window'>"
                + table(img_rows, "image and window")
                + table(prod_rows, "pixel &times; weight")
                + table(out_rows, "output so far")
                + summary + "</div>")

    # -- events --------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if not self._hold:
            self.redraw()

    def _on_stride(self, change) -> None:
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

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def sliding_window_explorer(image=None, kernel=None) -> SlidingWindowExplorer:
    """Watch a kernel slide across a small image, one position at a time.

    Parameters
    ----------
    image : array_like, optional
        A small 2-D image (at most 16 pixels a side); an 8x8 picture with a bright
        block by default.
    kernel : array_like, optional
        The kernel (at most 7x7); the edge kernel (8 in the middle, -1 around) by
        default.

    Returns
    -------
    SlidingWindowExplorer
        Displaying it shows the panel: a position slider (and a play button), a stride
        slider, the window on the image, the products, their sum and the output.
    """
    return SlidingWindowExplorer(image, kernel)
