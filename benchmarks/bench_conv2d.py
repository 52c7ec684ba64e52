"""How fast is notebook 03's `conv2d_fast`? Against PyTorch, SciPy and the loops.

Usage::

    python benchmarks/bench_conv2d.py              # the full table (about a minute on 2 cores)
    python benchmarks/bench_conv2d.py --repeats 3  # fewer repeats
    python benchmarks/bench_conv2d.py --strict     # exit 1 if a target is missed

The NumPy layers timed are the instructor's solutions (`conv2d_fast`, `conv2d`), taken
from the source notebook with :func:`autograder.answers.solutions` and run as they are,
so this measures what the course teaches. PyTorch is optional, only a yardstick: install
the CPU wheel with ``pip install torch==2.13.0`` (``pip install -e .[bench]``); an unpinned
``torch`` pulls a CUDA build of several GB. Without it the torch column is skipped.

Layers, all 3x3 filters with padding 1 (PyTorch's ``Conv2d(C, 64, 3, padding=1)``), in
``float64`` unless marked:

- the photograph: input (3, 600, 512), 64 filters;
- a deep layer: input (64, 128, 128), 64 filters;
- a small layer for the loops: input (3, 64, 64), 8 filters (the notebook's speed test).

Targets, each measured in the same run:

- ``conv2d_fast`` takes at most 1.0x PyTorch's float64 time on both big layers;
- ``conv2d_fast`` is at least 15x faster than a SciPy layer (``scipy.signal.correlate2d``
  once per filter and channel, the notebook's ``scipy_conv2d``);
- ``conv2d_fast`` is at least 200x faster than the loops (``conv2d``).

Other ways to vectorise are timed as extra rows. One of them, a loop over the 9 kernel
offsets with a ``tensordot`` each, is as fast as the others with 64 input channels but
several times slower on the photograph: with 3 channels each product is a skinny
(64 x 3) @ (3 x 307200) one that only moves memory, nine times over.

Times are the best of ``--repeats`` runs (the least disturbed). The script prints the
BLAS that NumPy uses and the OPENBLAS_* variables: some machines set OPENBLAS_CORETYPE,
which changes which OpenBLAS kernels run.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.answers import solutions  # noqa: E402

ASSIGNMENT = "03_feature_maps"
TARGET_TORCH = 1.0  # conv2d_fast time / torch float64 time, at most
TARGET_SCIPY = 15.0  # SciPy time / conv2d_fast time, at least
TARGET_LOOPS = 200.0  # loops time / conv2d_fast time, at least


def load_solutions() -> dict:
    """Run the notebook's solution cells; return their namespace (conv2d, conv2d_fast, ...)."""
    namespace: dict = {"np": np}
    for code in solutions(ASSIGNMENT).values():
        exec(compile(code, f"<{ASSIGNMENT} solution>", "exec"), namespace)
    return namespace


def best_time(func, repeats: int) -> float:
    """The shortest of ``repeats`` runs of ``func()``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


# --- other layers to compare with --------------------------------------------------------

def _padded(x, padding):
    padded = np.zeros((x.shape[0], x.shape[1] + 2 * padding, x.shape[2] + 2 * padding))
    padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] = x
    return padded


def scipy_layer(x, weights, bias, padding):
    """The notebook's reference: scipy.signal.correlate2d once per filter and channel."""
    out = np.empty((weights.shape[0], x.shape[1] + 2 * padding - weights.shape[2] + 1,
                    x.shape[2] + 2 * padding - weights.shape[3] + 1))
    for f in range(weights.shape[0]):
        out[f] = bias[f]
        for c in range(x.shape[0]):
            out[f] += scipy.signal.correlate2d(np.pad(x[c], padding), weights[f, c], mode="valid")
    return out


def offsets_tensordot(x, weights, bias, padding):
    """A loop over the kh*kw kernel offsets, one tensordot over the channels each."""
    padded = _padded(x, padding)
    f_count, _, kh, kw = weights.shape
    out_h, out_w = padded.shape[1] - kh + 1, padded.shape[2] - kw + 1
    out = np.zeros((f_count, out_h, out_w)) + bias[:, None, None]
    for i in range(kh):
        for j in range(kw):
            part = padded[:, i:i + out_h, j:j + out_w]
            out += np.tensordot(weights[:, :, i, j], part, axes=(1, 0))
    return out


def windows_tensordot(x, weights, bias, padding):
    """tensordot over a sliding_window_view of all windows (one call)."""
    windows = np.lib.stride_tricks.sliding_window_view(_padded(x, padding), weights.shape[2:],
                                                       axis=(1, 2))
    return np.tensordot(weights, windows, axes=([1, 2, 3], [0, 3, 4])) + bias[:, None, None]


def im2col_matmul(x, weights, bias, padding):
    """im2col: copy the windows into a (C*kh*kw, H'*W') matrix, then one matrix product."""
    f_count, c_count, kh, kw = weights.shape
    windows = np.lib.stride_tricks.sliding_window_view(_padded(x, padding), (kh, kw), axis=(1, 2))
    out_h, out_w = windows.shape[1:3]
    columns = windows.transpose(0, 3, 4, 1, 2).reshape(c_count * kh * kw, out_h * out_w)
    return (weights.reshape(f_count, -1) @ columns + bias[:, None]).reshape(f_count, out_h, out_w)


ALTERNATIVES = [
    ("alt: im2col + matmul", im2col_matmul),
    ("alt: tensordot over all windows", windows_tensordot),
    ("alt: loop over offsets, tensordot", offsets_tensordot),
]


# --- environment --------------------------------------------------------------------------

def _openblas():
    """NumPy's OpenBLAS as (library, symbol prefix, suffix), or None if not found."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    paths = glob.glob(os.path.join(libs, "*openblas*"))
    try:  # a conda environment's numpy links to the environment's libopenblas
        with open("/proc/self/maps") as maps:
            paths += sorted({line.split()[-1] for line in maps
                             if "openblas" in line.split()[-1] and ".so" in line})
    except OSError:
        pass
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                return lib, prefix, suffix
    return None


@contextmanager
def one_blas_thread():
    """Run the block with NumPy's OpenBLAS on one thread (a no-op if it is not found)."""
    found = _openblas()
    if found is None:
        yield
        return
    lib, prefix, suffix = found
    before = getattr(lib, f"{prefix}_get_num_threads{suffix}")()
    getattr(lib, f"{prefix}_set_num_threads{suffix}")(1)
    try:
        yield
    finally:
        getattr(lib, f"{prefix}_set_num_threads{suffix}")(before)


def blas_description() -> str:
    """Which BLAS NumPy runs, with the OpenBLAS core type and thread count when known."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - only a description
        text = "unknown BLAS"
    found = _openblas()
    if found is None:
        return text
    lib, prefix, suffix = found
    core = getattr(lib, f"{prefix}_get_corename{suffix}", None)
    threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")()
    if core is None:
        return f"{text}, {threads} threads"
    core.restype = ctypes.c_char_p
    return f"{text}, core {core().decode()}, {threads} threads"


def load_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# --- the benchmark ------------------------------------------------------------------------

def photo_input() -> np.ndarray:
    import course

    return np.ascontiguousarray(course.photo(grey=False).transpose(2, 0, 1))


def close(actual, expected) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10)


def time_layer(name, x, filters, conv2d_fast, torch, repeats, rng) -> list[tuple]:
    """Time every implementation on one layer, print a table, return the target checks."""
    weights = rng.standard_normal((filters, x.shape[0], 3, 3)) / np.sqrt(9 * x.shape[0])
    bias = rng.standard_normal(filters)
    print(f"{name}: input {x.shape}, {filters} filters 3x3, padding 1")
    reference = scipy_layer(x, weights, bias, 1)
    close(conv2d_fast(x, weights, bias, padding=1), reference)
    rows: list[tuple[str, float]] = []
    t_fast = best_time(lambda: conv2d_fast(x, weights, bias, padding=1), repeats)
    rows.append(("conv2d_fast (the solution)", t_fast))
    t_torch = None
    if torch is not None:
        conv = torch.nn.functional.conv2d
        xt, wt, bt = (torch.from_numpy(a) for a in (x[None], weights, bias))
        close(conv(xt, wt, bt, padding=1)[0].numpy(), reference)
        t_torch = best_time(lambda: conv(xt, wt, bt, padding=1), repeats)
        x32, w32, b32 = xt.float(), wt.float(), bt.float()
        t_torch32 = best_time(lambda: conv(x32, w32, b32, padding=1), repeats)
        rows.append(("torch float64", t_torch))
        rows.append(("torch float32 (reference line)", t_torch32))
    t_scipy = best_time(lambda: scipy_layer(x, weights, bias, 1), max(1, min(repeats, 2)))
    rows.append(("SciPy, correlate2d per filter and channel", t_scipy))
    for label, func in ALTERNATIVES:
        close(func(x, weights, bias, 1), reference)
        rows.append((label, best_time(lambda func=func: func(x, weights, bias, 1), repeats)))
    base = t_torch or t_fast
    column = "vs torch f64" if t_torch else "vs conv2d_fast"
    print(f"  {'implementation':44s} {'time':>10s} {column:>14s}")
    for label, t in rows:
        print(f"  {label:44s} {t * 1e3:7.1f} ms {t / base:13.2f}x")
    print()
    checks = []
    if t_torch is not None:
        checks.append((f"{name}: conv2d_fast / torch float64 (at most {TARGET_TORCH:g})",
                       t_fast / t_torch, t_fast / t_torch <= TARGET_TORCH))
    checks.append((f"{name}: SciPy / conv2d_fast (at least {TARGET_SCIPY:g})",
                   t_scipy / t_fast, t_scipy / t_fast >= TARGET_SCIPY))
    return checks


def time_small_layer(conv2d, conv2d_fast, repeats, rng) -> list[tuple]:
    """The loops against conv2d_fast on the notebook's small layer."""
    x = rng.standard_normal((3, 64, 64))
    weights = rng.standard_normal((8, 3, 3, 3))
    bias = rng.standard_normal(8)
    close(conv2d_fast(x, weights, bias), conv2d(x, weights, bias))
    t_loops = best_time(lambda: conv2d(x, weights, bias), max(1, min(repeats, 3)))
    t_fast_threads = best_time(lambda: conv2d_fast(x, weights, bias), 4 * repeats)
    # The loops use one core, so the fair comparison gives conv2d_fast one too. It also
    # avoids a trap: on a busy machine, multi-threaded OpenBLAS can stall for
    # milliseconds on a matrix product this small, waiting for its second thread.
    with one_blas_thread():
        t_fast = best_time(lambda: conv2d_fast(x, weights, bias), 4 * repeats)
    t_scipy = best_time(lambda: scipy_layer(x, weights, bias, 0), repeats)
    print("small layer: input (3, 64, 64), 8 filters 3x3, no padding")
    print(f"  {'implementation':44s} {'time':>10s} {'vs conv2d_fast':>14s}")
    for label, t in [("conv2d_fast (the solution), 1 BLAS thread", t_fast),
                     ("conv2d_fast, default BLAS threads", t_fast_threads),
                     ("conv2d (loops)", t_loops),
                     ("SciPy, correlate2d per filter and channel", t_scipy)]:
        print(f"  {label:44s} {t * 1e3:7.2f} ms {t / t_fast:13.1f}x")
    print()
    return [(f"small layer: conv2d (loops) / conv2d_fast (at least {TARGET_LOOPS:g})",
             t_loops / t_fast, t_loops / t_fast >= TARGET_LOOPS)]


def run(repeats: int) -> list[tuple[str, float, bool]]:
    """Print the environment and every table; return (target, measured ratio, met)."""
    ns = load_solutions()
    torch = load_torch()
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__} ({blas_description()}), scipy {scipy.__version__}, "
          f"{os.cpu_count()} cores")
    flags = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    print("environment:", " ".join(f"{k}={v}" for k, v in sorted(flags.items()))
          or "no OPENBLAS_/OMP_/MKL_ variables")
    if torch is None:
        print("torch: not installed, the torch rows are skipped "
              "(pip install torch==2.13.0, the CPU wheel)")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"times: best of {repeats} runs\n")
    checks = []
    checks += time_layer("photograph", photo_input(), 64, ns["conv2d_fast"], torch, repeats, rng)
    checks += time_layer("deep layer", rng.standard_normal((64, 128, 128)), 64, ns["conv2d_fast"],
                         torch, repeats, rng)
    checks += time_small_layer(ns["conv2d"], ns["conv2d_fast"], repeats, rng)
    return checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing; the best is kept")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    checks = run(args.repeats)
    print("targets")
    for what, value, met in checks:
        print(f"  {what:60s} {value:8.2f}  {'met' if met else 'MISSED'}")
    missed = sum(not met for *_, met in checks)
    print(f"{len(checks) - missed} of {len(checks)} targets met")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
