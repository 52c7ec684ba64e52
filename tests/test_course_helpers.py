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
