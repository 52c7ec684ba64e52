"""The grading kernel's sandbox, for real: bubblewrap, memory cap, timeouts, output caps.

Every test runs real kernels through :class:`autograder.sandbox.SandboxExecute` (nbgrader's
Execute preprocessor), or nbgrader's autograde, on small notebooks. Nothing is mocked and
nothing is skipped: without bubblewrap these tests fail and say how to install it.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from autograder import sandbox
from autograder.sandbox import GIB, KERNEL_NAME, MIB, Limits, configure

#: Cell timeout for cells that are not meant to hit it (a busy machine is slow).
ORDINARY = 60
#: Cell timeout for tests whose cell is meant to hit it (the other cells are trivial).
SHORT = 5

INSTALL = "bubblewrap is required for the grading sandbox: apt-get install bubblewrap"


@pytest.fixture(autouse=True)
def _needs_bwrap():
    assert shutil.which("bwrap"), INSTALL
    assert sandbox.sandbox_available(), f"bwrap is installed but cannot sandbox here. {INSTALL}"


# --- helpers -------------------------------------------------------------------------------

def _folder(path: Path) -> Path:
    """A folder the sandbox's user (``nobody`` when tests run as root) can enter."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def _run(tmp_path: Path, cells: list[str], *, limits: Limits | None = None,
         cwd: Path | None = None, **kwargs):
    """Run ``cells`` in a sandboxed kernel; the notebook, seconds taken, config.

    The timeouts are generous (the machine may be busy): a test checks what happens when
    a limit is hit, never how fast anything is.
    """
    config = Config()
    configure(config, tmp_path / "work", limits or Limits(cell_timeout=ORDINARY), **kwargs)
    config.Execute.iopub_timeout = 10
    config.SandboxExecute.recover_timeout = 10.0
    return (*_execute(config, cells, cwd or _folder(tmp_path / "nb")), config)


def _execute(config: Config, cells: list[str], cwd: Path):
    nb = nbformat.v4.new_notebook()
    # The notebook asks for python3; the configured kernel must run anyway.
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    executor = sandbox.SandboxExecute(config=config)
    start = time.monotonic()
    executor.preprocess(nb, {"metadata": {"path": str(cwd)}})
    return nb, time.monotonic() - start


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _errors(cell) -> list[str]:
    return [o.ename for o in cell.outputs if o.output_type == "error"]


def _kernels_left(config: Config) -> list[int]:
    """Processes still running with a connection file of this configuration's run dir."""
    run_dir = config.SandboxExecute.run_dir
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if run_dir.encode() in cmdline:
                left.append(int(entry.name))
    return left


# --- memory ----------------------------------------------------------------------------------

def test_memory_cap_then_a_huge_allocation(tmp_path):
    nb, seconds, _ = _run(tmp_path, [
        "import resource, socket\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0] / 2**30, socket.gethostname())",
        "import numpy as np\na = np.empty(2**30, dtype=np.uint8)\n"
        "print(a.nbytes / 2**30, 'GiB ok'); del a",
        "b = np.ones(3 * 2**30, dtype=np.uint8)",
        "c = np.ones(50 * 10**9, dtype=np.uint8)",
        "print('alive')",
    ])
    limit, host = _text(nb.cells[0]).split()
    assert float(limit) == 2.0 and host == "sandbox"  # our kernel, not the notebook's python3
    assert _text(nb.cells[1]) == "1.0 GiB ok\n"  # under the cap: fine
    assert _errors(nb.cells[2]) == ["MemoryError"]  # 3 GiB under a 2 GiB cap
    assert _errors(nb.cells[3]) == ["MemoryError"]  # 50 GB: refused just the same
    assert _text(nb.cells[4]) == "alive\n"
    # The grading process never held any of it.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < GIB // 1024


# --- files -----------------------------------------------------------------------------------

def _course(root: Path) -> dict[str, Path]:
    """A course folder whose files everybody may write: only the sandbox stops writes."""
    files = {
        "gradebook": root / "gradebook.db",
        "source": root / "source" / "ps1" / "ps1.ipynb",
        "other_student": root / "submitted" / "bob" / "ps1" / "ps1.ipynb",
        "own_notebook": root / "autograded" / "alice" / "ps1" / "ps1.ipynb",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("original")
        path.chmod(0o666)
    for path in files.values():
        for folder in (path.parent, *path.parent.parents):
            if folder == root.parent:
                break
            folder.chmod(0o777)
    return files


_WRITE_ALL = """
import errno
for name, path in {paths!r}.items():
    try:
        with open(path, "a") as f:
            f.write("changed")
        print(name, "WRITTEN")
    except OSError as err:
        print(name, errno.errorcode[err.errno])
"""


def test_files_outside_tmp_are_read_only(tmp_path):
    root = tmp_path / "course"
    files = _course(root)
    cwd = files["own_notebook"].parent
    targets = {k: str(v) for k, v in files.items()}
    targets["new_file_here"] = str(cwd / "new.txt")
    targets["project"] = str(Path(sandbox.__file__).with_name("sandbox_probe.txt"))
    scratch = _folder(tmp_path / "scratch")
    try:
        nb, _, _ = _run(tmp_path, [
            _WRITE_ALL.format(paths=targets),
            "print(open('ps1.ipynb').read(), open(" + repr(str(files["gradebook"])) + ").read())",
            "open('/tmp/scratch.txt', 'w').write('ok'); print(open('/tmp/scratch.txt').read())",
            "open(" + repr(str(scratch / "out.txt")) + ", 'w').write('allowed')",
        ], cwd=cwd, readable=[root], writable=[scratch])  # root is under /tmp: show it read-only
        assert not Path(targets["project"]).exists()
    finally:
        Path(targets["project"]).unlink(missing_ok=True)
    results = dict(line.split() for line in _text(nb.cells[0]).splitlines())
    # A new file in the notebook's folder goes to its scratch tmpfs, never to the host.
    assert results.pop("new_file_here") == "WRITTEN"
    assert results == {name: "EROFS" for name in targets if name != "new_file_here"}, results
    assert _text(nb.cells[1]) == "original original\n"  # readable, not writable
    assert _text(nb.cells[2]) == "ok\n"  # the private /tmp is writable
    assert (scratch / "out.txt").read_text() == "allowed"  # and so is what was asked for
    assert all(p.read_text() == "original" for p in files.values())
    assert not (cwd / "new.txt").exists()


def test_hidden_course_folder(tmp_path):
    root = tmp_path / "course"
    files = _course(root)
    cwd = files["own_notebook"].parent
    nb, _, _ = _run(tmp_path, [
        "import os\nprint(sorted(os.listdir(" + repr(str(root)) + ")))",
        "print(open('ps1.ipynb').read())",
        _WRITE_ALL.format(paths={"gradebook": str(files["gradebook"])}),
        "open(" + repr(str(files["source"])) + ")",
    ], cwd=cwd, hide=[root])
    assert _text(nb.cells[0]) == "['autograded']\n"  # only the way to the notebook's folder
    assert _text(nb.cells[1]) == "original\n"
    assert _text(nb.cells[2]) == "gradebook EROFS\n"
    assert _errors(nb.cells[3]) == ["FileNotFoundError"]
    assert files["gradebook"].read_text() == "original"


# --- network and environment --------------------------------------------------------------------

def test_no_network_not_even_loopback(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        nb, _, _ = _run(tmp_path, [
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)",
            "socket.create_connection(('1.1.1.1', 53), timeout=5)",
            "import os\nprint(os.environ.get('GRADER_SECRET'), os.environ['HOME'])",
        ])
        server.settimeout(0.1)
        with pytest.raises(TimeoutError):
            server.accept()  # nothing ever came
    assert _errors(nb.cells[0]) == ["ConnectionRefusedError"]
    assert _errors(nb.cells[1]) == ["OSError"]  # network unreachable
    assert _text(nb.cells[2]) == "None /tmp\n"  # the grader's environment stays outside


# --- time ------------------------------------------------------------------------------------

def test_infinite_loop_is_stopped_and_later_cells_run(tmp_path):
    nb, seconds, _ = _run(tmp_path, ["x = 41", "while True:\n    pass", "print(x + 1)"],
                          limits=Limits(cell_timeout=SHORT))
    assert _errors(nb.cells[0]) == []
    assert _errors(nb.cells[1])[0] in ("KeyboardInterrupt", "CellTimeoutError")  # stopped
    assert _text(nb.cells[2]) == "42\n"  # the same kernel goes on
    assert seconds >= SHORT  # it ran until the timeout (a lower bound: never flaky)


def test_kernel_deaf_to_interrupts_is_killed_and_grading_goes_on(tmp_path):
    deaf = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    nb, seconds, config = _run(tmp_path, ["x = 1", deaf, "print('never')"],
                               limits=Limits(cell_timeout=SHORT))
    assert _errors(nb.cells[0]) == []
    assert _errors(nb.cells[1]) == ["CellTimeoutError"]
    assert "did not stop when interrupted" in nb.cells[1].outputs[-1].evalue
    assert _errors(nb.cells[2]) == ["KernelStopped"]
    assert not _kernels_left(config)
    # The next notebook gets a fresh kernel.
    nb, _ = _execute(config, ["print('next notebook')"], _folder(tmp_path / "nb2"))
    assert _text(nb.cells[0]) == "next notebook\n"


def test_exit_kills_the_kernel_without_hanging(tmp_path):
    cells = ["print(1)", "import os\nos._exit(0)", "print(2)"]
    nb, seconds, config = _run(tmp_path, cells)
    assert _text(nb.cells[0]) == "1\n"
    assert _errors(nb.cells[1]) == ["DeadKernelError"]
    assert _errors(nb.cells[2]) == ["KernelStopped"]
    assert not _kernels_left(config)
    # With nbgrader's own behaviour the executor raises instead.
    from nbclient.exceptions import DeadKernelError

    config.SandboxExecute.grade_after_kernel_death = False
    with pytest.raises(DeadKernelError):
        _execute(config, cells, _folder(tmp_path / "nb"))
    assert not _kernels_left(config)


_GRADER = """
import time
from pathlib import Path
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from autograder import sandbox
run_dir = sandbox._make_run_dir(sandbox._sandbox_ids())
spec = sandbox.write_kernelspec(Path({work!r}) / "kernels" / sandbox.KERNEL_NAME,
                                sandbox.Limits(), run_dir=run_dir)
km = KernelManager(kernel_name=sandbox.KERNEL_NAME, transport="ipc",
                   connection_file=str(run_dir / "k.json"),
                   kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent.parent)]))
km.start_kernel(cwd={cwd!r})
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=300)
kc.execute("while True:\\n    pass")
print(run_dir, flush=True)
time.sleep(600)
"""


def test_kernel_dies_with_the_grading_process(tmp_path):
    grader = subprocess.Popen(
        [sys.executable, "-c", _GRADER.format(work=str(tmp_path / "work"),
                                              cwd=str(_folder(tmp_path / "nb")))],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        config = Config()
        config.SandboxExecute.run_dir = grader.stdout.readline().strip()
        assert config.SandboxExecute.run_dir, "the kernel never started"
        assert _kernels_left(config)
        time.sleep(0.5)  # busy in its loop
    finally:
        os.killpg(grader.pid, signal.SIGKILL)  # what the pipeline does on a task timeout
        grader.wait()
    deadline = time.monotonic() + 120  # a generous wait for a condition, not a timing check
    while _kernels_left(config) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _kernels_left(config)
    configure(Config(), tmp_path / "work2", Limits())  # sweeps the dead grader's run dir
    assert not Path(config.SandboxExecute.run_dir).exists()


# --- outputs ---------------------------------------------------------------------------------

def test_output_flood_is_capped_as_it_arrives(tmp_path):
    limits = Limits(cell_timeout=ORDINARY, max_output_lines=50, max_output_chars=5000)
    nb, _, _ = _run(tmp_path, [
        "for i in range(200_000):\n    print(i)",
        "print('y' * 1_000_000)",
        "from IPython.display import HTML, display\n"
        "for _ in range(50):\n    display(HTML('<b>x</b>' * 100))",
        "raise ValueError('z' * 1_000_000)",
    ], limits=limits)
    flood = _text(nb.cells[0])
    assert flood.startswith("0\n1\n2\n") and "output truncated" in flood
    assert flood.count("\n") <= 50 + 3
    wide = _text(nb.cells[1])
    assert "output truncated" in wide and len(wide) < 5000 + 200
    html = sum(len(str(o.get("data", ""))) for o in nb.cells[2].outputs)
    assert html < 5000 + 1000
    assert _errors(nb.cells[3]) == ["ValueError"]  # errors are kept: they fail test cells
    assert len(nb.cells[3].outputs[-1].evalue) <= 5000


def test_oversized_message_is_refused_and_the_kernel_goes_on(tmp_path):
    # The lost message shows as a cell timeout: this cell is meant to hit it.
    limits = Limits(cell_timeout=10, max_message_bytes=MIB)
    nb, _, _ = _run(tmp_path, ["print('x' * 3_000_000)", "print('still here')"],
                    limits=limits)
    assert _errors(nb.cells[0]) == ["OutputLost"]
    assert _text(nb.cells[1]) == "still here\n"


# --- extensions, fallback ----------------------------------------------------------------------

def test_kernel_loads_extensions(tmp_path):
    ext = _folder(tmp_path / "ext")
    (ext / "dummy_guard.py").write_text(
        "def load_ipython_extension(ip):\n    ip.user_ns['GUARD'] = 'loaded'\n")
    (ext / "dummy_guard.py").chmod(0o644)
    limits = Limits(extensions=["dummy_guard"])
    nb, _, config = _run(tmp_path, ["print(GUARD)"], limits=limits,
                         env={"PYTHONPATH": str(ext)})
    assert _text(nb.cells[0]) == "loaded\n"
    # An extension that cannot load stops the kernel: no grading without it.
    configure(config, tmp_path / "work", Limits(extensions=["no_such_guard"]))
    with pytest.raises(RuntimeError, match="Kernel died"):
        _execute(config, ["print(1)"], _folder(tmp_path / "nb"))


def test_without_sandbox_the_memory_cap_still_holds(tmp_path):
    cwd = _folder(tmp_path / "nb")
    nb, _, _ = _run(tmp_path, [
        "import socket\nprint(socket.gethostname() != 'sandbox')",
        "b = bytearray(3 * 2**30)",
        "open('written.txt', 'w').write('unconfined')",
    ], limits=Limits(sandbox=False), cwd=cwd)
    assert _text(nb.cells[0]) == "True\n"
    assert _errors(nb.cells[1]) == ["MemoryError"]
    assert (cwd / "written.txt").read_text() == "unconfined"


def test_configure_sets_nbgrader_up(tmp_path):
    config = Config()
    configure(config, tmp_path, Limits(cell_timeout=7, max_output_lines=9, max_traceback=11))
    assert config.Execute.kernel_name == KERNEL_NAME
    assert config.Execute.timeout == 7 and config.Execute.interrupt_on_timeout
    assert config.LimitOutput.max_lines == 9 and config.LimitOutput.max_traceback == 11
    chain = [getattr(pp, "__name__", pp) for pp in config.Autograde.autograde_preprocessors]
    assert chain[0] == "SandboxExecute" and "Execute" not in chain and "LimitOutput" in chain


# --- nbgrader, end to end ----------------------------------------------------------------------

def _source_notebook():
    """A tiny nbgrader source notebook: a task, an answer cell, a test cell (1 point)."""
    v4 = nbformat.v4
    return v4.new_notebook(cells=[
        v4.new_markdown_cell("# A tiny assignment"),
        v4.new_code_cell(
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
            metadata={"nbgrader": {"grade": False, "grade_id": "add", "locked": False,
                                   "schema_version": 3, "solution": True, "task": False}}),
        v4.new_code_cell(
            "assert add(1, 2) == 3",
            metadata={"nbgrader": {"grade": True, "grade_id": "test_add", "locked": True,
                                   "points": 1, "schema_version": 3, "solution": False,
                                   "task": False}}),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


_ALICE = """\
def add(a, b):
    return a + b

import os, socket
print("host:", socket.gethostname(), os.environ.get("NBGRADER_EXECUTION"))
try:
    open({gradebook!r}, "ab").write(b"x")
    print("gradebook: written")
except OSError as err:
    print("gradebook:", err.strerror)
"""

_BOB = """\
def add(a, b):
    import os
    os._exit(3)
"""


def test_nbgrader_autograde_runs_in_the_sandbox(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.nbg import api_for, generate_into, sqlite_url

    root = _folder(tmp_path / "course")
    db_url = sqlite_url(root / "gradebook.db")
    src = tmp_path / "src" / "ps1"
    src.mkdir(parents=True)
    nbformat.write(_source_notebook(), src / "ps1.ipynb")
    generate_into(root, ["ps1"], source=src.parent, db_url=db_url)
    gradebook = root / "gradebook.db"
    for student, answer in (("alice", _ALICE.format(gradebook=str(gradebook))), ("bob", _BOB)):
        nb = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "add":
                cell.source = answer
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "ps1.ipynb")

    api = api_for(root, db_url)
    configure(api.config, tmp_path / "work", Limits(cell_timeout=ORDINARY), hide=[root])
    for student in ("alice", "bob"):
        result = api.autograde("ps1", student, force=True, create=True)
        assert result["success"], result.get("log")

    graded = nbformat.read(root / "autograded" / "alice" / "ps1" / "ps1.ipynb", as_version=4)
    shown = _text(graded.cells[1])
    assert "host: sandbox autograde" in shown
    assert "gradebook: Read-only file system" in shown
    assert graded.metadata.kernelspec.name == "python3"  # the notebook itself is unchanged
    bob = nbformat.read(root / "autograded" / "bob" / "ps1" / "ps1.ipynb", as_version=4)
    assert _errors(bob.cells[2]) == ["DeadKernelError"]
    with Gradebook(db_url) as gb:
        assert gb.find_submission("ps1", "alice").score == 1
        assert gb.find_submission("ps1", "bob").score == 0


# --- 14.3: only the notebook's folder, a bounded scratch, the whole tree capped ----------------

def test_only_the_notebook_folder_is_visible(tmp_path):
    """Another submission, the submissions folder, the project's solutions, home: unseen."""
    from autograder.paths import ROOT

    root = tmp_path / "course"
    files = _course(root)
    cwd = files["own_notebook"].parent
    submissions = tmp_path / "class" / "submitted" / "carol" / "ps1"
    submissions.mkdir(parents=True)
    (submissions / "ps1.ipynb").write_text("carol's answers")
    probes = {"submissions": str(tmp_path / "class"), "project_source": str(ROOT / "source"),
              "project_tests": str(ROOT / "tests"), "var": "/var",
              "other_student": str(files["other_student"]), "gradebook": str(files["gradebook"])}
    # (a checkout inside the temporary folder: that folder is the sandbox's own, with the
    # kernel's run folder and the way to the notebook in it, so it says nothing here)
    folders = [str(f) for f in (Path.home(), ROOT.parent)
               if not tmp_path.is_relative_to(f) and f != Path(tempfile.gettempdir())]
    nb, _, _ = _run(tmp_path, [
        "import os\nfor name, path in " + repr(probes) + ".items():\n"
        "    print(name, os.path.exists(path))",
        "found = [os.path.join(b, f) for b, _, fs in os.walk('/') if not b.startswith("
        + repr(("/proc", "/sys", "/usr", "/etc", "/dev", *sandbox._python_paths()))
        + ") for f in fs if f.endswith('.ipynb')]\nprint(found)",
        "print({f: sorted(os.listdir(f)) for f in " + repr(folders) + " if os.path.isdir(f)})",
    ], cwd=cwd)  # nothing hidden explicitly: only what the kernel needs is shown at all
    assert dict(line.split() for line in _text(nb.cells[0]).splitlines()) == {
        name: "False" for name in probes}
    assert _text(nb.cells[1]).strip() == repr([str(cwd / "ps1.ipynb")])
    # Home and the project's parent show only the way to the kernel's Python and code.
    needed = [Path(p) for p in sandbox._python_paths()]
    for folder, names in eval(_text(nb.cells[2])).items():
        on_the_way = {p.relative_to(folder).parts[0] for p in needed
                      if p.is_relative_to(folder) and p != Path(folder)}
        assert set(names) <= on_the_way, (folder, names)


def test_scratch_folder_is_writable_bounded_and_explained(tmp_path):
    cwd = _folder(tmp_path / "nb")
    (cwd / "data.txt").write_text("given")
    (cwd / "data.txt").chmod(0o644)
    limits = Limits(cell_timeout=ORDINARY, scratch_bytes=8 * MIB)
    nb, _, _ = _run(tmp_path, [
        "import numpy as np\nnp.save('weights.npy', np.arange(3.0))\n"
        "print(np.load('weights.npy').sum(), open('data.txt').read())",
        "open('big.bin', 'wb').write(b'x' * (20 * 2**20))",
        "open('data.txt', 'w')",
    ], limits=limits, cwd=cwd)
    assert _text(nb.cells[0]) == "3.0 given\n"  # np.save works in the notebook's folder
    assert _errors(nb.cells[1]) == ["OSError"]
    error = nb.cells[1].outputs[-1]
    assert "No space left on device" in error.evalue
    assert "scratch space is full" in error.evalue and "8 MiB" in error.evalue
    assert _errors(nb.cells[2]) == ["OSError"]  # the given files stay read-only
    assert "read-only" in nb.cells[2].outputs[-1].evalue
    assert sorted(p.name for p in cwd.iterdir()) == ["data.txt"]  # nothing reached the host
    assert (cwd / "data.txt").read_text() == "given"


_FORKED_MEMORY = """
import os, time
pids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            block = b'x' * (400 * 2**20)  # touched: 400 MiB each, under the per-process cap
            time.sleep(120)
        finally:
            os._exit(0)  # a child never goes on as a second kernel
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
"""


def test_memory_cap_counts_the_whole_process_tree(tmp_path):
    """Four forked children of 400 MiB each exceed a 1 GiB cap together: all killed."""
    limits = Limits(cell_timeout=ORDINARY, memory_bytes=GIB)
    nb, _, config = _run(tmp_path, ["x = 1", _FORKED_MEMORY, "print(x)"], limits=limits)
    assert _errors(nb.cells[1]) == ["KernelKilled"]
    why = nb.cells[1].outputs[-1].evalue
    assert "memory cap of 1.0 GiB" in why and "together" in why
    assert _errors(nb.cells[2]) == ["KernelStopped"]
    assert not _kernels_left(config)


def test_process_cap_stops_a_fork_bomb(tmp_path):
    bomb = ("import os, time\nfor i in range(200):\n    if os.fork() == 0:\n"
            "        time.sleep(120)\n        os._exit(0)\ntime.sleep(120)")
    limits = Limits(cell_timeout=ORDINARY, max_processes=16)
    nb, _, config = _run(tmp_path, ["x = 1", bomb, "print(x)"], limits=limits)
    assert _errors(nb.cells[1]) in (["KernelKilled"], ["BlockingIOError"])
    if _errors(nb.cells[1]) == ["KernelKilled"]:
        assert "process cap" in nb.cells[1].outputs[-1].evalue
    assert not _kernels_left(config)


def test_writes_into_the_connection_folder_do_not_stay(tmp_path):
    """The one host folder the kernel can write to (its sockets'): watched and emptied."""
    find = ("import os, sys\nrun = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])\n"
            "print(run)")
    limits = Limits(cell_timeout=ORDINARY, run_dir_bytes=4 * MIB)
    nb, _, config = _run(tmp_path, [
        find,
        "open(os.path.join(run, 'small.bin'), 'wb').write(b'x' * 2**20)",
        "import time\nopen(os.path.join(run, 'big.bin'), 'wb').write(b'x' * (40 * 2**20))\n"
        "time.sleep(120)",
    ], limits=limits)
    run_dir = Path(_text(nb.cells[0]).strip())
    assert run_dir == Path(config.SandboxExecute.run_dir)
    assert _errors(nb.cells[1]) == []
    assert _errors(nb.cells[2]) == ["KernelKilled"]
    assert "outside its scratch folder" in nb.cells[2].outputs[-1].evalue
    assert not (run_dir / "small.bin").exists() and not (run_dir / "big.bin").exists()


def test_stderr_of_a_test_cell_costs_nothing(tmp_path):
    """logging in a test cell shows on stdout (nbgrader fails a test cell on stderr); a
    student cell keeps its stderr, and the guard's [integrity] lines stay on stderr."""
    config = Config()
    configure(config, tmp_path / "work", Limits(cell_timeout=ORDINARY))
    config.Execute.iopub_timeout = 10
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    test_meta = {"nbgrader": {"grade": True, "grade_id": "test_f__computation", "locked": True,
                              "points": 1, "schema_version": 3, "solution": False}}
    log = "import logging\nlogging.warning('slow path')"
    nb.cells = [nbformat.v4.new_code_cell(log),
                nbformat.v4.new_code_cell(log, metadata=test_meta),
                nbformat.v4.new_code_cell("import sys\nprint('[integrity] restored x', "
                                          "file=sys.stderr)", metadata=test_meta)]
    sandbox.SandboxExecute(config=config).preprocess(
        nb, {"metadata": {"path": str(_folder(tmp_path / "nb"))}})
    streams = [[(o.name, o.text) for o in c.outputs if o.output_type == "stream"]
               for c in nb.cells]
    assert streams[0] == [("stderr", "WARNING:root:slow path\n")]
    assert streams[1] == [("stdout", "WARNING:root:slow path\n")]
    assert streams[2] == [("stderr", "[integrity] restored x\n")]
