"""Checks the notebooks' test cells use, with messages that say what to fix.

``by_hand()``
    A context manager that notices calls into SciPy, ``numpy.pad``,
    ``numpy.convolve`` and ``numpy.correlate`` made while it is active, however
    they were imported (``from scipy.ndimage import correlate as c`` included),
    and raises :class:`ByHandError` naming them.
``assert_image_close(actual, expected, name)``
    Compares two arrays and explains the difference: shape, dtype, a border-only
    mismatch (a padding problem), or the first wrong pixel.
``expect_raises(func, *args, errors=(ValueError, TypeError), **kwargs)``
    Fails unless the call raises one of ``errors``, saying what the call did instead.
``describe_call(func, *args, **kwargs)``
    A short text for a call, for messages: ``pad(array (3, 3) float64, 1, mode='symmetric')``.
``speed_ratio(func, make_args, ...)``
    How many times faster ``func`` is than a plain loop over pixels, on fresh inputs.

When the course's grader runs a test cell, it runs it in its own process, outside the
student's kernel, and the student's functions are calls into that kernel. It then sets
:data:`JUDGE` so that :func:`by_hand` and :func:`speed_ratio` are enforced there (see
``autograder/judge.py``). In a student's notebook, and under plain nbgrader, everything
here runs in the notebook's own kernel.
"""

from __future__ import annotations

import contextvars
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["JUDGE", "ByHandError", "assert_image_close", "border_width", "by_hand", "describe_call",
           "describe_value", "expect_raises", "known_function", "loop_conv2d_cost", "speed_ratio"]

#: Set by the course's grader while it runs a test cell in its own process (see the module
#: docstring). The object has ``by_hand(what)`` (a context manager: calls of the student's
#: functions inside it run where SciPy's compiled routines and ``numpy.pad`` are
#: unavailable) and ``speed_ratio(func, args_list, reference, rounds, repeats)``.
JUDGE: contextvars.ContextVar = contextvars.ContextVar("course_checks_judge", default=None)


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
    judge = JUDGE.get()
    if judge is not None:
        with judge.by_hand(what):
            yield
        return
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


# --------------------------------------------------------------------------------------
# Messages: what a call was, and what it should have done
# --------------------------------------------------------------------------------------

def describe_value(value: Any, limit: int = 60) -> str:
    """A short description of an argument: small values as they are, arrays by shape.

    >>> describe_value(np.ones((3, 3)))
    'array (3, 3) float64'
    >>> describe_value("symmetric")
    "'symmetric'"
    """
    if isinstance(value, np.ndarray):
        if value.size <= 6 and value.ndim <= 2:
            text = np.array2string(value, separator=", ")
            return text if len(text) <= limit else f"array {value.shape} {value.dtype}"
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{type(value).__name__} of {len(value)}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_call(func: Any, *args: Any, **kwargs: Any) -> str:
    """``name(arg, ..., key=value)`` for a message, arrays shown by shape and dtype."""
    name = func if isinstance(func, str) else getattr(func, "__name__", "the function")
    parts = [describe_value(a) for a in args] + [f"{k}={describe_value(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _names(errors: tuple[type, ...]) -> str:
    names = [e.__name__ for e in errors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def expect_raises(func: Callable, *args: Any, errors: type | tuple[type, ...] = (ValueError, TypeError),
                  call: str | None = None, why: str = "", **kwargs: Any) -> None:
    """Assert that ``func(*args, **kwargs)`` raises one of ``errors``.

    Parameters
    ----------
    func : callable
    args, kwargs
        The call.
    errors : exception class or tuple of them
        What the exercise text asks for (default: ``ValueError`` or ``TypeError``, as the
        course's rules allow either unless the text names one).
    call : str, optional
        How to show the call in the message (default: :func:`describe_call`).
    why : str, optional
        What is wrong with the arguments, added to the message ("the kernel does not fit").

    Raises
    ------
    NotImplementedError
        Passed on as it is when the function is still the blank exercise.
    AssertionError
        Saying which call, what was expected and what happened instead, e.g.
        ``pad(array (3, 3) float64, 1, mode='symmetric') should raise ValueError (an
        unknown mode); it raised KeyError: 'symmetric'``.
    """
    errors = errors if isinstance(errors, tuple) else (errors,)
    call = call or describe_call(func, *args, **kwargs)
    expected = f"{call} should raise {_names(errors)}" + (f" ({why})" if why else "")
    try:
        func(*args, **kwargs)
    except errors:
        return
    except NotImplementedError:
        raise  # an exercise not done yet says so, as in every other check
    except Exception as err:  # the student's own error: say which, not just that it failed
        raise AssertionError(f"{expected}; it raised {type(err).__name__}: {err}") from None
    raise AssertionError(f"{expected}; it returned without an error")


# --------------------------------------------------------------------------------------
# Functions given to the student's functions (numerical_gradient(f, x)): known by name
# --------------------------------------------------------------------------------------

def _quadratic(x, a, b):
    """``sum(a * x**2) + sum(b * x)``: its gradient is ``2 a x + b``."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.asarray(a) * x ** 2) + np.sum(np.asarray(b) * x))


def _sin_sum(x, w):
    """``sum(sin(w * x))``: its gradient is ``w cos(w x)``."""
    return float(np.sum(np.sin(np.asarray(w) * np.asarray(x, dtype=float))))


#: The functions a test may hand to a student's function, by name. A judge outside the
#: kernel sends the name and the plain-data parameters, and the kernel builds the same
#: function from this table (no code crosses).
KNOWN_FUNCTIONS: dict[str, Callable] = {"quadratic": _quadratic, "sin_sum": _sin_sum}


class KnownFunction:
    """A function of an array, named in :data:`KNOWN_FUNCTIONS`, with plain parameters."""

    def __init__(self, name: str, **params: Any):
        if name not in KNOWN_FUNCTIONS:
            raise KeyError(f"no known function {name!r}; known: {', '.join(KNOWN_FUNCTIONS)}")
        self.name, self.params = name, params
        self.__name__ = name

    def __call__(self, x):
        return KNOWN_FUNCTIONS[self.name](x, **self.params)

    def __repr__(self) -> str:
        return f"{self.name}(x)"


def known_function(name: str, **params: Any) -> KnownFunction:
    """The function ``name`` of :data:`KNOWN_FUNCTIONS` with ``params`` (arrays, numbers).

    Tests pass these, never their own lambdas, to a student's function that takes a
    function (``numerical_gradient(f, x)``), so the call can be made in the student's
    kernel by a judge that runs the test outside it.
    """
    return KnownFunction(name, **params)


# --------------------------------------------------------------------------------------
# Speed: compared with a loop over pixels, timed where the function runs
# --------------------------------------------------------------------------------------

def loop_conv2d_cost(x: np.ndarray, weights: np.ndarray) -> None:
    """A loop over output pixels that costs what a per-pixel Conv2D loop costs.

    The reference for :func:`speed_ratio`: for each filter and output pixel it takes the
    ``(C, kh, kw)`` window and reduces it with the filter, one NumPy call each, as a
    per-pixel ``conv2d`` does. It computes a maximum, not a sum of products, so it is
    no answer to any exercise; it returns nothing.
    """
    n_filters, _, kh, kw = weights.shape
    rows, cols = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    sink = 0.0
    for f in range(n_filters):
        w = weights[f]
        for r in range(rows):
            for s in range(cols):
                sink += np.maximum(x[:, r:r + kh, s:s + kw], w).max()
    del sink


_REFERENCES = {"loop_conv2d_cost": loop_conv2d_cost}


def speed_ratio(func: Callable, make_args: Callable[[np.random.Generator], tuple], *,
                reference: Callable = loop_conv2d_cost, rounds: int = 3, repeats: int = 5,
                seed: int = 0, verify: Callable[[tuple, Any], None] | None = None,
                ) -> tuple[float, float, float]:
    """How many times faster ``func`` is than ``reference`` (a loop over pixels).

    Each round times the reference once and ``func`` ``repeats`` times, every call on
    fresh arguments from ``make_args(rng)`` (so no result can be remembered from an
    earlier call); the best time of each is kept over all rounds, which is robust to a
    busy machine.

    Parameters
    ----------
    func : callable
        The function under test, called as ``func(*args)``.
    make_args : callable
        ``make_args(rng) -> tuple`` of plain arrays; also the reference's arguments.
    reference : callable
        :func:`loop_conv2d_cost` (the grader knows it by name).
    rounds, repeats : int
    seed : int
        Seed of the generator given to ``make_args``.
    verify : callable, optional
        ``verify(args, result)`` is called for every timed result and should raise
        AssertionError if it is wrong: a fast wrong answer is no answer.

    Returns
    -------
    (ratio, reference_seconds, func_seconds)
    """
    judge = JUDGE.get()
    # Under the judge the inputs are fresh for every grading (no answer can be prepared).
    rng = np.random.default_rng(judge.fresh_seed() if judge is not None else seed)
    plan = [[make_args(rng) for _ in range(1 + repeats)] for _ in range(rounds)]
    if judge is not None:
        t_ref, t_func, results = judge.speed_ratio(func, plan, reference.__name__)
    else:
        t_ref = t_func = float("inf")
        results = []
        for args_list in plan:
            start = time.perf_counter()
            reference(*args_list[0])
            t_ref = min(t_ref, time.perf_counter() - start)
            for args in args_list[1:]:
                start = time.perf_counter()
                out = np.asarray(func(*args))
                t_func = min(t_func, time.perf_counter() - start)
                results.append(out)
    if verify is not None:
        timed = [args for args_list in plan for args in args_list[1:]]
        for args, out in zip(timed, results, strict=True):
            verify(args, out)
    return t_ref / max(t_func, 1e-9), t_ref, t_func
