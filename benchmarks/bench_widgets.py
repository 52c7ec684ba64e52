"""How fast the kernel explorer redraws the 600 x 512 photograph (target: 50 ms).

A redraw is what one slider move costs in the kernel: convolve the photograph
(``scipy.ndimage.convolve``), map it to grey levels, encode a PNG and hand the bytes
to the ``ipywidgets.Image`` (sent to the browser as a binary buffer). The browser's
own decoding is not included. Usage::

    python benchmarks/bench_widgets.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from course import photo  # noqa: E402
from course.widgets import KernelExplorer, png_bytes  # noqa: E402

TARGET_MS = 50.0


def time_calls(func, repeat: int) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls of ``func(i)``."""
    out = []
    for i in range(repeat):
        start = time.perf_counter()
        func(i)
        out.append(1000 * (time.perf_counter() - start))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="redraws per row (default 50)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    image = photo(grey=True)
    rows = []
    for size, preset in [(3, "edge"), (3, "blur"), (5, "Gaussian"), (5, "edge")]:
        e = KernelExplorer(image, size=size, preset=preset)
        weight = e.sliders[0][0]
        base = weight.value
        weight.value = base + 0.5  # warm up

        def move(i, weight=weight, base=base):
            weight.value = base + 0.01 * (i % 7 + 1) * (-1) ** i

        ms = time_calls(move, args.repeat)
        rows.append((f"slider move, {size}x{size} {preset}", ms))
    e = KernelExplorer(image, size=3, preset="edge")
    names = ["blur", "Sobel x", "sharpen", "edge"]
    rows.append(("preset change, 3x3",
                 time_calls(lambda i: setattr(e.preset, "value", names[i % 4]), args.repeat)))
    modes = ["wrap", "reflect", "constant", "mirror"]
    rows.append(("mode change, 3x3",
                 time_calls(lambda i: setattr(e.mode, "value", modes[i % 4]), args.repeat)))
    grey = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    rows.append(("  of which: PNG encoding", time_calls(lambda i: png_bytes(grey), args.repeat)))
    rows.append(("  of which: convolve 3x3", time_calls(lambda i: e.filtered(), args.repeat)))

    print(f"Kernel explorer redraw on the {image.shape[0]} x {image.shape[1]} photograph, "
          f"{args.repeat} redraws each (wall clock)\n")
    header = f"{'what':<32} {'mean ms':>8} {'median ms':>10} {'max ms':>8} {'target':>8}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, ms in rows:
        mean, median = statistics.fmean(ms), statistics.median(ms)
        verdict = "" if name.startswith("  ") else ("ok" if median <= TARGET_MS else "SLOW")
        if not name.startswith("  "):
            worst = max(worst, median)
        print(f"{name:<32} {mean:>8.1f} {median:>10.1f} {max(ms):>8.1f} {verdict:>8}")
    print(f"\ntarget: a redraw within {TARGET_MS:.0f} ms; slowest median {worst:.1f} ms: "
          f"{'met' if worst <= TARGET_MS else 'NOT met'}")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
