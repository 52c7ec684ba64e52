"""The explorers of course/widgets.py, driven like a student would, without a browser.

Setting ``.value`` on a slider or dropdown fires the same observers as dragging it in
JupyterLab; the checks compare what the panel shows with SciPy.
"""

from __future__ import annotations

import time
import zlib

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal

from course import photo
from course.widgets import (
    MODES,
    KernelExplorer,
    kernel_explorer,
    png_bytes,
    presets,
    sliding_window_explorer,
)


def decode_png(data: bytes) -> np.ndarray:
    """Decode the explorer's greyscale PNG (filter 0 rows) back to an array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8:10] == b"\x08\x00", "8-bit greyscale expected"
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width + 1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:]


@pytest.fixture(scope="module")
def image():
    return photo(grey=True)


@pytest.fixture()
def explorer(image):
    return kernel_explorer(image)


# -- the kernel explorer --------------------------------------------------------------

def test_starts_on_the_seed_edge_kernel(explorer, image):
    assert explorer.preset.value == "edge"
    np.testing.assert_array_equal(explorer.kernel, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_allclose(explorer.filtered(), ndi.convolve(image, explorer.kernel))
    assert explorer.last_display == "signed"
    assert "8" in explorer.text.value


def test_moving_a_slider_changes_kernel_and_picture(explorer, image):
    before_png = explorer.output.value
    before = explorer.redraws
    explorer.sliders[0][2].value = 2.5
    assert explorer.redraws == before + 1, "one slider move must redraw exactly once"
    assert explorer.output.value != before_png
    expected = np.array([[-1, -1, 2.5], [-1, 8, -1], [-1, -1, -1]], dtype=float)
    np.testing.assert_array_equal(explorer.kernel, expected)
    np.testing.assert_allclose(explorer.filtered(), ndi.convolve(image, expected, mode="reflect"))
    assert explorer.preset.value == "custom", "a moved slider no longer matches the preset"
    assert "2.5" in explorer.text.value


def test_kernel_property_is_a_copy(explorer):
    k = explorer.kernel
    k[1, 1] = 100.0
    assert explorer.kernel[1, 1] == 8.0


@pytest.mark.parametrize("name", ["identity", "edge", "blur", "Gaussian", "sharpen", "Sobel x",
                                  "Sobel y", "emboss"])
def test_every_preset_filters_like_scipy(explorer, image, name):
    explorer.preset.value = name
    k = explorer.kernel
    np.testing.assert_allclose(k, presets(3)[name])
    np.testing.assert_allclose(explorer.filtered(), ndi.convolve(image, k), rtol=1e-12, atol=1e-12)
    shown = decode_png(explorer.output.value).astype(float) / 255
    if explorer.last_display == "signed":
        r = ndi.convolve(image, k)
        want = 0.5 + 0.5 * r / np.abs(r).max()
    else:
        want = np.clip(ndi.convolve(image, k), 0, 1)
    assert np.abs(shown - want).max() <= 1 / 255 + 1e-9


def test_preset_kernels_are_what_they_claim():
    p = presets(3)
    assert p["identity"].sum() == 1 and p["identity"][1, 1] == 1
    np.testing.assert_array_equal(p["edge"], 9 * p["identity"] - np.ones((3, 3)))
    np.testing.assert_allclose(p["blur"], np.full((3, 3), 1 / 9))
    for name in ("blur", "Gaussian", "sharpen", "identity", "emboss"):
        assert np.isclose(p[name].sum(), 1.0), name
    for name in ("edge", "Sobel x", "Sobel y"):
        assert p[name].sum() == 0, name
    step = np.zeros((9, 9))
    step[:, 5:] = 1.0  # brighter to the right
    assert ndi.convolve(step, p["Sobel x"]).max() > 0 == ndi.convolve(step, p["Sobel x"]).min()
    np.testing.assert_allclose(ndi.convolve(step, p["Sobel x"]), ndi.sobel(step, axis=1))
    np.testing.assert_allclose(ndi.convolve(step.T, p["Sobel y"]), ndi.sobel(step.T, axis=0))
    g = p["Gaussian"]
    assert np.allclose(g, g.T) and np.allclose(g, g[::-1, ::-1]) and g[1, 1] == g.max()


@pytest.mark.parametrize("mode", MODES)
def test_boundary_mode(explorer, image, mode):
    explorer.preset.value = "Sobel x"
    png, n = explorer.output.value, explorer.redraws
    explorer.mode.value = mode
    np.testing.assert_allclose(explorer.filtered(), ndi.convolve(image, explorer.kernel, mode=mode))
    if mode != "reflect":
        assert explorer.redraws == n + 1, f"changing the mode to {mode} must redraw"
    if mode in ("mirror", "wrap", "constant"):  # 'nearest' equals 'reflect' for a 3x3 kernel
        assert explorer.output.value != png, f"mode {mode} must change the picture's border"


def test_normalise_divides_by_a_nonzero_sum(explorer, image):
    explorer.set_weights(np.ones((3, 3)))
    assert explorer.last_display == "clipped"
    bright = decode_png(explorer.output.value)
    assert (bright == 255).mean() > 0.5, "nine 1s wash the photograph out"
    explorer.normalise.value = True
    np.testing.assert_allclose(explorer.kernel, np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(explorer.filtered(), ndi.uniform_filter(image, 3), atol=1e-12)
    np.testing.assert_allclose(explorer.weights, np.ones((3, 3)),
                               err_msg="the sliders keep their values")
    explorer.preset.value = "edge"  # sum 0: nothing to divide by
    np.testing.assert_array_equal(explorer.kernel, presets(3)["edge"])
    assert explorer.last_display == "signed"
    explorer.set_weights([[0, 0, 0], [0, -2, 0], [0, 0, 0]])  # negative sum: still divided
    np.testing.assert_allclose(explorer.kernel, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])


def test_signed_response_has_zero_at_mid_grey():
    flat = np.full((20, 30), 0.7)
    e = kernel_explorer(flat, preset="edge")
    assert (decode_png(e.output.value) == 128).all(), "an all-zero response is drawn mid-grey"
    step = np.zeros((20, 30))
    step[:, 15:] = 1.0
    e = kernel_explorer(step, preset="Sobel x")
    shown = decode_png(e.output.value)
    assert shown.min() == 128 and shown.max() == 255  # only a positive response here
    assert (shown[:, :10] == 128).all()


def test_setting_a_preset_redraws_once(explorer):
    n = explorer.redraws
    explorer.preset.value = "blur"
    assert explorer.redraws == n + 1
    n = explorer.redraws
    explorer.set_weights(presets(3)["sharpen"])
    assert explorer.redraws == n + 1
    assert explorer.preset.value == "sharpen", "weights equal to a preset select it"


def test_five_by_five(image):
    e = kernel_explorer(image, size=5, preset="blur")
    assert len(e.sliders) == 5 and all(len(row) == 5 for row in e.sliders)
    np.testing.assert_allclose(e.kernel, np.full((5, 5), 1 / 25))
    np.testing.assert_allclose(e.filtered(), ndi.uniform_filter(image, 5), atol=1e-12)
    e.preset.value = "edge"
    three = kernel_explorer(image, size=3, preset="edge")
    np.testing.assert_allclose(e.filtered(), three.filtered(),
                               err_msg="a 3x3 preset padded with zeros filters as before")
    e.sliders[0][4].value = -3.0
    assert e.kernel[0, 4] == -3.0
    e.mode.value = "wrap"
    np.testing.assert_allclose(e.filtered(), ndi.convolve(image, e.kernel, mode="wrap"))
    g = presets(5)["Gaussian"]
    assert np.isclose(g.sum(), 1.0) and g.shape == (5, 5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        kernel_explorer(size=4)
    with pytest.raises(ValueError, match="2-D"):
        kernel_explorer(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="preset"):
        kernel_explorer(np.zeros((4, 4)), preset="laplace")
    e = kernel_explorer(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="3x3"):
        e.set_weights(np.ones((5, 5)))


def test_displaying_shows_the_panel(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.widget.model_id
    assert "KernelExplorer" in repr(explorer)


@pytest.mark.parametrize("size", [3, 5])
def test_redraw_of_the_photograph_within_50_ms(image, size):
    # CPU time of this process: the suite runs in parallel (-n auto), and wall-clock time
    # would measure the other workers. benchmarks/bench_widgets.py reports wall-clock.
    e = KernelExplorer(image, size=size)
    e.sliders[0][0].value = 0.5  # warm up
    times = []
    for i in range(15):
        start = time.process_time()
        e.sliders[1][1].value = 1.0 + 0.25 * i
        times.append(time.process_time() - start)
    assert e.output.value and e.redraws == 17
    median_ms = 1000 * float(np.median(times))
    assert median_ms < 50, f"median redraw {median_ms:.1f} ms of CPU > 50 ms"


def test_png_bytes_round_trip():
    a = (np.arange(35 * 17) % 256).astype(np.uint8).reshape(35, 17)
    np.testing.assert_array_equal(decode_png(png_bytes(a)), a)
    with pytest.raises(ValueError):
        png_bytes(np.zeros((3, 3)))


# -- the sliding-window explorer ------------------------------------------------------

def test_sliding_window_defaults_and_products():
    s = sliding_window_explorer()
    assert s.image.shape == (8, 8)
    np.testing.assert_array_equal(s.kernel, presets(3)["edge"])
    assert s.output_shape == (6, 6) and s.count == 36 and s.step.max == 35
    s.step.value = 9  # row 1, column 3
    assert s.position == (1, 3) and s.out_index == (1, 3)
    np.testing.assert_array_equal(s.window, s.image[1:4, 3:6])
    np.testing.assert_array_equal(s.products, s.image[1:4, 3:6] * s.kernel)
    assert s.total == pytest.approx(float((s.image[1:4, 3:6] * s.kernel).sum()))
    html = s.view.value
    assert f"{s.total:.4g}" in html and "output so far" in html


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_sliding_window_output_equals_correlate2d(stride):
    rng = np.random.default_rng(stride)
    img = rng.integers(0, 10, (9, 11)).astype(float)
    k = rng.integers(-2, 3, (3, 3)).astype(float)
    s = sliding_window_explorer(img, k)
    s.stride.value = stride
    want = scipy.signal.correlate2d(img, k, mode="valid")[::stride, ::stride]
    assert s.output_shape == want.shape and s.count == want.size and s.step.max == want.size - 1
    for step in range(s.count):
        s.step.value = step
        r, c = s.out_index
        assert s.position == (r * stride, c * stride)
        assert s.total == pytest.approx(want[r, c])
        out = s.output()
        filled = ~np.isnan(out)
        assert filled.sum() == step + 1, "the output fills in one pixel per position"
        np.testing.assert_allclose(out[filled], want[filled])
    np.testing.assert_allclose(s.output(), want)


def test_sliding_window_stride_change_keeps_step_in_range():
    s = sliding_window_explorer()
    s.step.value = 35
    s.stride.value = 3  # 2x2 outputs
    assert s.step.max == 3 and s.step.value == 3 and s.play.max == 3
    assert s.output_shape == (2, 2) and s.position == (3, 3)
    s.stride.value = 2
    assert s.output_shape == (3, 3) and s.step.max == 8
    assert "stride 2" in s.view.value


def test_sliding_window_non_square_kernel_and_errors():
    s = sliding_window_explorer(np.arange(30.0).reshape(5, 6), np.array([[1.0, -1.0]]))
    assert s.output_shape == (5, 5)
    s.step.value = s.count - 1
    want = scipy.signal.correlate2d(s.image, s.kernel, mode="valid")
    np.testing.assert_allclose(s.output(), want)
    with pytest.raises(ValueError, match="fit"):
        sliding_window_explorer(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="crop"):
        sliding_window_explorer(np.zeros((40, 40)))
