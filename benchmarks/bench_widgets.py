"""How fast the explorers and step viewers redraw, and how many bytes each redraw sends.

Kernel explorer (target: 50 ms a redraw): one slider move costs, in the kernel, a
convolution of the 600 x 512 photograph (``scipy.ndimage.convolve``), the colour limit,
cropping and resizing to the panel, a PNG (Pillow) and the hand-over to the
``ipywidgets.Image`` (sent to the browser as a binary buffer). The browser's decoding is
not included. The bytes per redraw are compared with what the explorer sent before this
version: the full-resolution image, encoded by a hand-written PNG writer (kept below, for
this comparison only).

Step viewers (target: 100 ms a step): the notebook-04 viewer (a 3x3 kernel and the loss
curve of 150 steps) and the notebook-05 viewer (8 kernels of 5x5 and 15 epochs), each a
frame not drawn before; compared with what the notebooks did before, a new pyplot figure
per step.

Each row gives the wall-clock time and the CPU time of this process. On a machine shared
by other jobs the wall clock also counts the waits for a free core (the load average is
printed first), so the targets are judged on the CPU time: what one redraw costs. Usage::

    python benchmarks/bench_widgets.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import struct
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from course import photo  # noqa: E402
from course.widgets import (  # noqa: E402
    KernelExplorer,
    kernel_history_viewer,
    png_bytes,
    sliding_window_explorer,
    step_viewer,
)

REDRAW_MS, STEP_MS = 50.0, 100.0


def old_png_bytes(grey: np.ndarray) -> bytes:
    """The PNG writer the explorer used before: greyscale, no row filters, Huffman only."""
    height, width = grey.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)
    raw[:, 1:] = grey

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    body = packer.compress(raw.tobytes()) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def time_calls(func, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``repeat`` calls of ``func(i)``."""
    wall, cpu = [], []
    for i in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        func(i)
        cpu.append(1000 * (time.process_time() - start_cpu))
        wall.append(1000 * (time.perf_counter() - start))
    return wall, cpu


def table(title: str, rows, target: float | None) -> float:
    print(f"\n{title}")
    header = (f"{'what':<46} {'wall median':>11} {'CPU median':>10} {'CPU max':>8} "
              f"{'KiB sent':>9} {'target':>7}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, (wall, cpu), size in rows:
        median = statistics.median(cpu)
        counted = target is not None and not name.startswith("  ")
        if counted:
            worst = max(worst, median)
        verdict = ("ok" if median <= target else "SLOW") if counted else ""
        kib = f"{size / 1024:.0f}" if size else ""
        print(f"{name:<46} {statistics.median(wall):>11.1f} {median:>10.1f} {max(cpu):>8.1f} "
              f"{kib:>9} {verdict:>7}")
    return worst


def explorer_rows(repeat: int):
    image = photo(grey=True)
    rows = []
    for size, preset, colour, zoom in [(3, "edge", "grey", "fit"), (3, "blur", "grey", "fit"),
                                       (5, "Gaussian", "grey", "fit"), (3, "edge", "grey", "4x"),
                                       (3, "edge", "each channel", "fit")]:
        e = KernelExplorer(None, size=size, preset=preset, colour=colour, zoom=zoom)
        weight = e.sliders[0][0]
        base = weight.value
        weight.value = base + 0.5  # warm up
        sizes = []

        def move(i, e=e, weight=weight, base=base, sizes=sizes):
            weight.value = base + 0.01 * (i % 7 + 1) * (-1) ** i
            sizes.append(e.last_png_bytes)

        ms = time_calls(move, repeat)
        what = f"slider move, {size}x{size} {preset}, {zoom}" + (", colour" if colour != "grey" else "")
        rows.append((what, ms, statistics.median(sizes)))
    e = KernelExplorer(image, size=3, preset="edge")
    names = ["blur", "Sobel x", "sharpen", "edge"]
    rows.append(("preset change, 3x3",
                 time_calls(lambda i: setattr(e.preset, "value", names[i % 4]), repeat), 0))
    modes = ["wrap", "reflect", "constant", "mirror"]
    rows.append(("mode change, 3x3",
                 time_calls(lambda i: setattr(e.mode, "value", modes[i % 4]), repeat), 0))
    zooms = ["2x", "fit", "8x", "1x"]
    rows.append(("zoom change (both pictures)",
                 time_calls(lambda i: setattr(e.zoom, "value", zooms[i % 4]), repeat), 0))
    e.zoom.value = "fit"
    e.select("edge")
    grey = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    rows.append(("  before: full-size PNG, hand-written writer",
                 time_calls(lambda i: old_png_bytes(grey), repeat), len(old_png_bytes(grey))))
    from PIL import Image

    small = np.asarray(Image.fromarray(grey).resize((360, 422), Image.Resampling.BOX))
    rows.append(("  now: panel-size PNG, Pillow, Huffman only",
                 time_calls(lambda i: png_bytes(small), repeat), len(png_bytes(small))))
    rows.append(("  Pillow's default (level 6), panel size",
                 time_calls(lambda i: _pillow_default(small), repeat), len(_pillow_default(small))))
    rows.append(("  convolve 3x3 (grey photograph)", time_calls(lambda i: e.filtered(), repeat), 0))
    return rows


def _pillow_default(a: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(a).save(buffer, format="PNG")
    return buffer.getvalue()


def explorer_bytes_table() -> None:
    """Bytes of the filtered picture per redraw, before and now, for each preset."""
    e = KernelExplorer(None)
    print("\nBytes of the filtered picture sent per redraw (photograph)")
    header = f"{'preset':<10} {'before (600x512) KiB':>21} {'fit (422x360) KiB':>18} {'4x zoom KiB':>12}"
    print(header)
    print("-" * len(header))
    for name in ["edge", "blur", "Gaussian", "sharpen", "Sobel x", "random"]:
        e.zoom.value = "fit"
        e.select(name)
        fit = len(e.output.value)
        e.zoom.value = "4x"
        zoom = len(e.output.value)
        r = e.filtered()
        if name in ("edge", "Sobel x"):
            m = float(np.abs(r).max())
            old = (0.5 + 0.5 * r / m) * 255 + 0.5
        else:
            old = np.clip(r, 0, 1) * 255 + 0.5
        before = len(old_png_bytes(old.astype(np.uint8)))
        print(f"{name:<10} {before / 1024:>21.0f} {fit / 1024:>18.0f} {zoom / 1024:>12.0f}")


def viewer_rows(repeat: int):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 3)) * 0.1
    edge = np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    kernels = [start + (edge - start) * (1 - 0.98 ** i) for i in range(151)]
    losses = [float(np.sum((k - edge) ** 2)) for k in kernels[:-1]]
    v = step_viewer(kernels, losses, value=0)
    count = min(repeat, 150)
    rows = [("step_viewer (04): a new step, 3x3 + 150 losses",
             time_calls(lambda i: setattr(v.slider, "value", i + 1), count),
             len(v.image.value))]
    rows.append(("step_viewer (04): a step drawn before",
                 time_calls(lambda i: setattr(v.slider, "value", 1 + i % count), count), 0))
    base = rng.standard_normal((8, 1, 5, 5))
    weights = [base * (0.1 + 0.06 * e) for e in range(16)]
    h = kernel_history_viewer(weights, list(np.exp(-np.arange(15) / 5)), value=0,
                              captions=[f"average R² = {r:.2f}" for r in np.linspace(0, 1, 16)])
    rows.append(("kernel_history_viewer (05): a new epoch, 8 5x5",
                 time_calls(lambda i: setattr(h.slider, "value", i + 1), 15), len(h.image.value)))
    rows.append(("  before (04): a new pyplot figure per step",
                 time_calls(lambda i: _old_show_step(kernels, losses, i), min(repeat, 10)), 0))
    s = sliding_window_explorer(channels=3, pad=1, stride=2)
    rows.append(("sliding window, 3 channels: next position (HTML)",
                 time_calls(lambda i: setattr(s.step, "value", i % s.count), repeat),
                 len(s.view.value.encode())))
    return rows


def _old_show_step(history, losses, step: int) -> None:
    """What notebook 04's slider did for each step before: a new figure, drawn to PNG."""
    import matplotlib.pyplot as plt

    from course.plotting import show_kernel

    fig, (ax_k, ax_l) = plt.subplots(1, 2, figsize=(8, 3), gridspec_kw={"width_ratios": [1, 1.6]})
    show_kernel(history[step], f"kernel after {step} steps", ax=ax_k, fmt="{:.2f}")
    ax_l.semilogy(losses, color="lightgray")
    ax_l.semilogy(losses[: step + 1], color="C0")
    ax_l.axvline(step, color="C3", lw=1)
    plt.tight_layout()
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40, help="redraws per row (default 40)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Explorers and viewers, {args.repeat} redraws per row, milliseconds; "
          f"load average {load} on {os.cpu_count()} cores")
    worst_redraw = table("Kernel explorer on the 600 x 512 photograph (panels 360 px wide)",
                         explorer_rows(args.repeat), REDRAW_MS)
    explorer_bytes_table()
    worst_step = table("Step viewers and the sliding window", viewer_rows(args.repeat), STEP_MS)
    ok = worst_redraw <= REDRAW_MS and worst_step <= STEP_MS
    print(f"\ntargets (CPU time): explorer redraw within {REDRAW_MS:.0f} ms (slowest median "
          f"{worst_redraw:.1f} ms), viewer step within {STEP_MS:.0f} ms (slowest median "
          f"{worst_step:.1f} ms): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
