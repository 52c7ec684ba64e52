"""Run a notebook top to bottom and save every figure it draws as a PNG, to look at them.

    python tests/render_figures.py source/02_edge_and_blur/02_edge_and_blur.ipynb OUT_DIR

The source notebook runs with its solutions (hidden tests included); ``--release`` runs the
student version instead (exercises still blank: the demo cells that need no student code
must still draw). Figures go to ``OUT_DIR/<notebook>-cell<NN>-<k>.png``; the script prints
the wall time and the kernel's CPU time (the budget is about CPU: 15 s, 30 s for 05, on 2
cores; the CPU time is what a busy machine does not inflate).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

_CPU_START = "import time as _render_time\n_render_cpu = _render_time.process_time()"
_CPU_END = "print('kernel CPU seconds:', round(_render_time.process_time() - _render_cpu, 2))"


def render(path: Path, out: Path, allow_errors: bool = False, timeout: int = 300) -> int:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_CPU_START))
    nb.cells.append(nbformat.v4.new_code_cell(_CPU_END))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.monotonic()
    failed = 0
    try:
        client.execute()
    except CellExecutionError as err:
        print(f"error: {str(err).strip().splitlines()[-1]}", file=sys.stderr)
        failed = 1
    wall = time.monotonic() - start
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for index, cell in enumerate(nb.cells[1:-1]):
        for k, output in enumerate(cell.get("outputs", [])):
            if output.get("output_type") == "error":
                print(f"cell {index}: {output.ename}: {output.evalue}", file=sys.stderr)
            data = output.get("data", {})
            if "image/png" in data:
                target = out / f"{path.stem}-cell{index:02d}-{k}.png"
                target.write_bytes(base64.b64decode(data["image/png"]))
                count += 1
    cpu = [o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("output_type") == "stream"]
    print(f"{path.name}: {count} figures in {out}; wall {wall:.1f} s; {''.join(cpu).strip()}")
    return failed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebook", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--release", action="store_true", help="run release/ instead of source/")
    p.add_argument("--allow-errors", action="store_true", help="go on after a failing cell")
    args = p.parse_args()
    path = args.notebook
    if args.release:
        path = Path(str(path).replace("source/", "release/", 1))
    return render(path, args.out, allow_errors=args.allow_errors or args.release)


if __name__ == "__main__":
    sys.exit(main())
