"""The helper package students import: images, plots, checks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.ndimage as ndi  # noqa: E402

import course  # noqa: E402
from course.checks import ByHandError, assert_image_close, border_width, by_hand  # noqa: E402


def test_photo_grey_and_colour():
    grey, rgb = course.photo(), course.photo(grey=False)
    assert grey.shape == (600, 512) and rgb.shape == (600, 512, 3)
    assert grey.dtype == rgb.dtype == np.float64
    assert 0 <= grey.min() < grey.max() <= 1
    grey[:] = 0  # a copy: the next call is intact
    assert course.photo().max() > 0


@pytest.mark.parametrize("make", [course.step_edge, course.stripes, course.checkerboard, course.disk])
def test_synthetic_images(make):
    image = make((20, 30))
    assert image.shape == (20, 30) and image.dtype == np.float64
    assert image.min() >= 0 and image.max() <= 1 and image.std() > 0
    with pytest.raises(ValueError):
        make((0, 5))


def test_step_edge_orientation():
    v, h = course.step_edge((8, 8)), course.step_edge((8, 8), orientation="horizontal")
    assert (v[:, 0] == 0).all() and (v[:, -1] == 1).all()
    assert np.array_equal(h, v.T)
    with pytest.raises(ValueError, match="orientation"):
        course.step_edge(orientation="diagonal")


def test_stripes_direction():
    vertical = course.stripes((16, 16), period=8, angle=0)
    assert np.allclose(vertical, vertical[0])  # constant down each column


@pytest.mark.parametrize("call", [
    lambda: ndi.correlate(np.ones((4, 4)), np.ones((3, 3))),
    lambda: np.pad(np.ones(3), 1),
    lambda: np.convolve(np.ones(3), np.ones(2)),
    lambda: np.correlate(np.ones(3), np.ones(2)),
])
def test_by_hand_catches_library_calls(call):
    with pytest.raises(ByHandError, match="by hand"):
        with by_hand("f"):
            call()


def test_by_hand_catches_aliased_import_and_allows_numpy():
    from scipy.signal import correlate2d as c2

    def sneaky(x):
        try:
            return c2(x, x)
        except Exception:
            return None

    with pytest.raises(ByHandError, match="scipy.signal"):
        with by_hand("sneaky"):
            sneaky(np.ones((2, 2)))
    with by_hand("honest"):
        x = np.lib.stride_tricks.sliding_window_view(np.arange(10.0), 3).sum(axis=1)
        np.einsum("i,i->", x, x)


def test_assert_image_close_explains_border_mismatch():
    a = np.zeros((6, 6))
    b = a.copy()
    b[0, 3] = 1
    with pytest.raises(AssertionError, match="outer 1-pixel border"):
        assert_image_close(b, a)
    with pytest.raises(AssertionError, match="shape"):
        assert_image_close(a[:5], a)
    with pytest.raises(AssertionError, match="None"):
        assert_image_close(None, a)
    b = a.copy()
    b[3, 3] = 1
    with pytest.raises(AssertionError, match=r"index \(3, 3\)"):
        assert_image_close(b, a)
    assert_image_close(a + 1e-12, a)
    assert border_width(np.zeros((5, 5), bool)) == 0


def test_plots_draw_and_reject_bad_input():
    import matplotlib.pyplot as plt

    axes = course.show_images(course.disk(), course.stripes() - 0.5, titles=["a", "b"])
    assert len(axes) == 2
    course.show_kernel(np.arange(9.0).reshape(3, 3) - 4, title="k")
    course.show_signed(np.linspace(-1, 2, 16).reshape(4, 4))
    with pytest.raises(ValueError):
        course.show_images(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError):
        course.show_images(np.ones((2, 2)), titles=["a", "b"])
    with pytest.raises(ValueError):
        course.show_kernel(np.ones((2, 2, 2)))
    plt.close("all")


# -- load_image and as_float ------------------------------------------------------------

def _encoded(array: np.ndarray, fmt: str = "PNG", **kwargs) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def colour_picture() -> np.ndarray:
    """A 40 x 60 colour picture: a red left half, a blue right half, a green top row."""
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[:, :30, 0] = 200
    rgb[:, 30:, 2] = 180
    rgb[0, :, 1] = 255
    return rgb


def test_load_image_reads_png_from_path_bytes_and_file(tmp_path, colour_picture):
    data = _encoded(colour_picture)
    path = tmp_path / "picture.png"
    path.write_bytes(data)
    for source in (path, str(path), data, bytearray(data), memoryview(data), path.open("rb")):
        image = course.load_image(source)
        assert image.dtype == np.uint8 and image.shape == (40, 60, 3)
        np.testing.assert_array_equal(image, colour_picture)
    grey = course.load_image(data, grey=True)
    assert grey.shape == (40, 60) and grey.dtype == np.uint8
    # ITU-R 601 luma, as course.photo(grey=True) uses
    want = colour_picture.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(grey.astype(float) - want).max() <= 1.0


def test_load_image_jpeg_orientation_and_size(colour_picture):
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show the picture rotated 90 degrees clockwise
    data = _encoded(colour_picture, "JPEG", quality=95, exif=exif.tobytes())
    upright = course.load_image(data)
    assert upright.shape == (60, 40, 3), "the EXIF orientation must be applied"
    # rotated clockwise: the green top row is now the right-hand column, red on top
    assert upright[:, -1, 1].mean() > 200 and upright[:, 0, 1].mean() < 60
    assert upright[:20, :, 0].mean() > 150 and upright[-20:, :, 2].mean() > 130
    small = course.load_image(data, max_side=15)
    assert max(small.shape[:2]) == 15 and small.shape[:2] == (15, 10)
    same = course.load_image(_encoded(colour_picture), max_side=100)
    assert same.shape == (40, 60, 3), "max_side never enlarges"


def test_load_image_transparency_and_16_bit():
    rgba = np.zeros((5, 5, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[:, :2, 3] = 255  # opaque red on the left, transparent elsewhere
    image = course.load_image(_encoded(rgba))
    np.testing.assert_array_equal(image[:, 0], [[255, 0, 0]] * 5)
    np.testing.assert_array_equal(image[:, -1], [[255, 255, 255]] * 5)  # on white
    deep = (np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000)
    grey = course.load_image(_encoded(deep), grey=True)
    assert grey.dtype == np.uint8 and grey.max() == 255 and grey.min() == 0


@pytest.mark.parametrize("data, what", [
    (b"this is a text file, not a picture", "not a PNG or JPEG"),
    (b"", "empty"),
])
def test_load_image_refuses_what_is_not_an_image(data, what):
    with pytest.raises(ValueError, match=what) as info:
        course.load_image(data)
    assert "\n" not in str(info.value), "one line"


def test_load_image_truncated_missing_and_bad_arguments(tmp_path, colour_picture):
    data = _encoded(colour_picture)
    with pytest.raises(ValueError, match="could not read") as info:
        course.load_image(data[: len(data) // 2])
    assert "\n" not in str(info.value)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt"):
        course.load_image(notes)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        course.load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="max_side"):
        course.load_image(data, max_side=0)
    with pytest.raises(ValueError, match="path"):
        course.load_image(12345)


def test_as_float():
    u8 = np.array([[0, 128, 255]], dtype=np.uint8)
    np.testing.assert_allclose(course.as_float(u8), [[0, 128 / 255, 1]])
    np.testing.assert_allclose(course.as_float(np.array([0, 255], dtype=np.int64)), [0, 1])
    np.testing.assert_allclose(course.as_float(np.array([0, 1000], dtype=np.uint16)), [0, 1])
    np.testing.assert_array_equal(course.as_float(np.array([True, False])), [1.0, 0.0])
    x = np.array([0.25, 0.5])
    y = course.as_float(x)
    y[0] = 9
    assert x[0] == 0.25 and course.as_float(x).dtype == np.float64
    with pytest.raises(ValueError, match="real"):
        course.as_float(np.array(["a"]))


# -- signed responses, kernels, numbers ----------------------------------------------------

@pytest.mark.parametrize("value, fmt, text", [
    (-0.001, "{:.2f}", "0.00"), (-0.0, None, "0"), (-0.04, "{:.1f}", "0.0"),
    (-0.0001, "%.2f", "0.00"), (-0.5, "{:.1f}", "-0.5"), (-1e-5, "{:.2g}", "-1e-05"),
    (0.25, "{:.2f}", "0.25"), (3.0, " ", " "), (-2.0, None, "-2"),
])
def test_format_value_never_writes_minus_zero(value, fmt, text):
    from course.plotting import format_value

    assert format_value(value, fmt) == text
    assert format_value(-8.9e-16, None, tiny=1e-9) == "0"


def test_signed_limits():
    from course.plotting import signed_limits

    a = np.concatenate([np.linspace(-1, 1, 1000), [50.0]])
    assert signed_limits(a) == (-50.0, 50.0)
    lo, hi = signed_limits(a, 99.5)
    assert lo == -hi and hi == pytest.approx(np.percentile(np.abs(a), 99.5))
    assert signed_limits(np.zeros(5), 99.5) == (-1.0, 1.0)
    sparse = np.zeros(1000)
    sparse[3] = -2.0
    assert signed_limits(sparse, 99.5) == (-2.0, 2.0), "a zero percentile falls back to max"
    with pytest.raises(ValueError, match="percentile"):
        signed_limits(a, 0)


def _texts(fig) -> list[str]:
    """Every text on a figure: texts, figure texts and x labels (where show_signed's note is)."""
    return ([t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
            + [ax.get_xlabel() for ax in fig.axes])


def test_show_signed_says_its_robust_limit_and_zooms():
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from course.plotting import SIGNED_CMAP

    e = ndi.convolve(course.photo(), np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]))
    m = float(np.percentile(np.abs(e), 99.5))
    axes = course.show_signed(e, "edge response", symbol="e", zoom=(120, 190, 100, 80))
    assert len(axes) == 2
    fig = axes[0].figure
    note = next(t for t in _texts(fig) if t.startswith("colour limit"))
    assert note.startswith(f"colour limit ±{m:.3g} = 99.5th percentile of |e|"), note
    assert "beyond it" in note
    full, crop = (ax.get_images()[0] for ax in axes)
    assert full.get_clim() == crop.get_clim() == pytest.approx((-m, m)), "one colour scale"
    np.testing.assert_array_equal(crop.get_array(), e[120:220, 190:270])
    frames = [p for p in axes[0].patches if isinstance(p, Rectangle)]
    assert frames and frames[0].get_xy() == (189.5, 119.5) and frames[0].get_width() == 80
    assert len(fig.axes) == 3, "the two views and one colour bar"
    plt.close(fig)
    axes = course.show_signed(e, symbol="e", percentile=100)
    largest = float(np.abs(e).max())
    assert axes[0].get_images()[0].get_clim() == pytest.approx((-largest, largest))
    assert any(t.startswith("colour limit ±5.27 = max |e|") for t in _texts(axes[0].figure))
    plt.close("all")
    grey = np.array(SIGNED_CMAP(0.5)[:3])
    assert np.allclose(grey, 0.5, atol=0.01), "zero is mid-grey"
    lows, highs = SIGNED_CMAP(np.linspace(0, 0.5, 20))[:, :3], SIGNED_CMAP(np.linspace(0.5, 1, 20))[:, :3]
    luma = np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(lows @ luma) > 0) and np.all(np.diff(highs @ luma) > 0), \
        "brightness rises with the value"
    assert lows[0, 2] > lows[0, 0] and highs[-1, 0] > highs[-1, 2], "blue below, orange above"
    with pytest.raises(ValueError, match="zoom"):
        course.show_signed(e, zoom=(590, 0, 20, 20))
    with pytest.raises(ValueError, match="2-D"):
        course.show_signed(np.zeros(4))
    plt.close("all")


def test_show_kernel_patches_grey_and_no_minus_zero():
    import matplotlib.pyplot as plt

    k = np.array([[-0.0, -1e-17, 0.5], [-0.004, 1.0, 2.0]])
    ax = course.show_kernel(k, fmt="{:.2f}")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0.00", "0.00", "0.50", "0.00", "1.00", "2.00"], texts
    assert ax.get_images()[0].get_cmap().name == "RdBu_r"
    assert ax.get_images()[0].get_clim() == (-2.0, 2.0)
    ax = course.show_kernel(k)
    assert [t.get_text() for t in ax.texts][:2] == ["0", "0"], "rounding errors print as 0"
    patch = np.array([[0, 0, 9]] * 3, dtype=float)
    ax = course.show_kernel(patch, "patch", kind="patch")
    image = ax.get_images()[0]
    assert image.get_cmap().name == "gray" and image.get_clim() == (0.0, 9.0)
    colours = [t.get_color() for t in ax.texts]
    assert colours[0] == "white" and colours[2] == "black", "text readable on black and white"
    assert course.show_kernel(np.full((2, 2), 0.5), kind="patch").get_images()[0].get_clim() == (0, 1)
    with pytest.raises(ValueError, match="kind"):
        course.show_kernel(k, kind="image")
    plt.close("all")


def test_show_images_uint8_and_robust_signed_panels():
    import matplotlib.pyplot as plt

    rgb = (course.photo(grey=False) * 255).astype(np.uint8)
    grey = (course.photo() * 255).astype(np.uint8)
    e = ndi.convolve(course.photo(), np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]))
    axes = course.show_images(rgb, grey, e, titles=["colour", "grey", "edges"])
    shown = axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown, rgb / 255.0, err_msg="uint8 colour is scaled, not white")
    assert axes[1].get_images()[0].get_clim() == (0.0, 1.0)
    m = float(np.percentile(np.abs(e), 99.5))
    assert axes[2].get_images()[0].get_clim() == pytest.approx((-m, m))
    assert any("99.5th percentile" in t.get_text() for t in axes[2].texts)
    plt.close("all")


def test_show_filters_writes_weights_without_minus_zero():
    import matplotlib.pyplot as plt

    from course.grids import show_filters

    w = np.zeros((2, 1, 2, 2))
    w[0, 0] = [[-0.001, 0.5], [-0.25, 0.0]]
    w[1, 0] = [[1.0, -1e-18], [0.0, -1.0]]
    fig = show_filters(w, values=True)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0.00", "0.50", "-0.25", "0.00", "1.00", "0.00", "0.00", "-1.00"], texts
    assert len(show_filters(w).axes[0].texts) == 0
    with pytest.raises(ValueError, match="grey"):
        show_filters(np.ones((2, 3, 3, 3)), values=True)
    plt.close("all")


def test_show_signed_into_given_axes_and_a_given_limit():
    import matplotlib.pyplot as plt

    a = np.linspace(-3, 1, 400).reshape(20, 20)
    fig, axes = plt.subplots(1, 3)
    course.show_signed(a, ax=axes[0], limit=2.0, colorbar=False)
    assert axes[0].get_images()[0].get_clim() == (-2.0, 2.0)
    assert axes[0].get_xlabel().startswith("colour limit ±2 (given)")
    shown = course.show_signed(a, ax=axes[1:], zoom=(0, 0, 5, 5), symbol="d")
    assert shown == list(axes[1:]) and len(fig.axes) == 4, "two views and their colour bar"
    with pytest.raises(ValueError, match="pair"):
        course.show_signed(a, ax=axes[0], zoom=(0, 0, 5, 5))
    with pytest.raises(ValueError, match="limit"):
        course.show_signed(a, limit=0)
    plt.close("all")
