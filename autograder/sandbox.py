"""A sandboxed, resource-limited kernel for autograding student notebooks.

Student code runs in the Jupyter kernel that nbgrader's ``Execute`` preprocessor (nbclient)
starts. :func:`configure` edits the nbgrader ``Config`` of a grading process so that every
such kernel

* has its address space capped (``RLIMIT_AS``, :attr:`Limits.memory_bytes`): a too large
  allocation raises ``MemoryError`` in the kernel instead of swapping the machine;
* runs inside Debian's bubblewrap (``bwrap``) when it is available: the whole file system is
  read-only, ``/tmp`` is a private and size-capped tmpfs, there is no network (loopback
  included), no view of other processes, and -- when grading runs as root -- the kernel
  runs as ``nobody`` with no capabilities;
* is stopped after :attr:`Limits.cell_timeout` seconds per cell (interrupted, then killed if
  it does not answer), and its outputs are capped while they arrive.

The kernel is described by a kernelspec written under ``workdir``
(``workdir/kernels/course-sandbox/kernel.json``) whose command is this file, run as a
script with ``python -I -S`` (standard library only, a few milliseconds): it sets the
resource limits, filters the environment, works out the bubblewrap mounts for the
notebook's folder and the connection file, and ``exec``\\ s ``bwrap`` (or, without it, the
kernel directly). nbgrader uses it whatever kernelspec the notebook names: the Execute
preprocessor's ``kernel_name`` wins over the notebook metadata.

Without bubblewrap the memory cap, timeouts and output caps still apply;
:func:`sandbox_available` says so and :data:`MISSING_BWRAP` explains it.

The Execute preprocessor that does it, :class:`SandboxExecute` (``autograder.sandbox.
SandboxExecute``), is built on first use: this file must import nothing but the standard
library when it runs as the launcher.

Usage in a grading process (one call, before the first autograde)::

    api = api_for(root, db_url)
    configure(api.config, workdir, Limits(), hide=[root, ROOT])
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "KERNEL_NAME",
    "MISSING_BWRAP",
    "Limits",
    "configure",
    "sandbox_available",
    "write_kernelspec",
]

MIB = 1024**2
GIB = 1024**3

#: Name of the kernelspec :func:`configure` writes and makes nbgrader use.
KERNEL_NAME = "course-sandbox"

#: What to tell the user when :func:`sandbox_available` is false.
MISSING_BWRAP = (
    "bubblewrap (bwrap) is missing or cannot create a sandbox on this machine: student code "
    "runs with the memory cap, timeouts and output caps only, but can write files and use "
    "the network (install it: apt-get install bubblewrap)"
)

#: Environment variables the kernel keeps from the grading process (plus ``LC_*``); all
#: others (database URLs, tokens, ``JPY_PARENT_PID``...) are dropped.
KEEP_ENV = (
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "NBGRADER_EXECUTION",
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "MPLBACKEND", "VIRTUAL_ENV",
    # Some processors need these for a correct OpenBLAS (the machine sets them): keep them.
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
)

#: Set for a sandboxed kernel: every writable place is in its private /tmp.
SANDBOX_ENV = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "IPYTHONDIR": "/tmp/.ipython",
    "MPLCONFIGDIR": "/tmp/.matplotlib",
    "XDG_CACHE_HOME": "/tmp/.cache",
    "XDG_CONFIG_HOME": "/tmp/.config",
    "PYTHONDONTWRITEBYTECODE": "1",
}

_SANDBOX_USER = "nobody"


@dataclass
class Limits:
    """Resource limits of a grading kernel.

    Attributes
    ----------
    memory_bytes : int
        Cap on the kernel's address space (``RLIMIT_AS``); larger allocations raise
        ``MemoryError``. Default 2 GiB.
    cell_timeout : int
        Seconds one cell may run; then the kernel is interrupted, and killed if it is
        still busy after nbclient's ``iopub_timeout`` (4 s) and
        ``SandboxExecute.recover_timeout`` (5 s). Default 60.
    notebook_timeout : int
        Wall-clock seconds for a whole notebook. Not enforced here: carried for the
        pipeline, which stops a worker that takes longer. Default 300.
    max_output_lines : int
        Lines of stream output kept per cell (while executing, and by nbgrader's
        ``LimitOutput`` afterwards). Default 1000.
    max_output_chars : int
        Characters of output kept per cell while executing (streams, rich outputs and
        error messages). Default 100 000.
    max_traceback : int
        Lines of a traceback kept (nbgrader's ``LimitOutput.max_traceback``). Default 100.
    max_message_bytes : int
        Largest message the grader accepts from the kernel (ZeroMQ ``MAXMSGSIZE``); a
        larger one is dropped before it is read into memory. Default 64 MiB.
    tmp_bytes : int
        Size of the sandbox's private ``/tmp`` and ``/dev/shm`` (each a tmpfs, which is
        memory) and the largest file the kernel may write (``RLIMIT_FSIZE``).
        Default 256 MiB.
    sandbox : bool
        Run the kernel in bubblewrap when it is available (else only the limits apply).
        Default True.
    writable_cwd : bool
        Let the kernel write into the notebook's folder (``autograded/<student>/<assignment>``).
        The course's notebooks do not need it. Default False: read-only.
    extensions : list of str
        IPython extensions (module names) the kernel loads at start; a failure to load
        one stops the kernel, so grading never runs without them.
    """

    memory_bytes: int = 2 * GIB
    cell_timeout: int = 60
    notebook_timeout: int = 300
    max_output_lines: int = 1000
    max_output_chars: int = 100_000
    max_traceback: int = 100
    max_message_bytes: int = 64 * MIB
    tmp_bytes: int = 256 * MIB
    sandbox: bool = True
    writable_cwd: bool = False
    extensions: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Is bubblewrap usable here?
# --------------------------------------------------------------------------------------

def _is_root() -> bool:
    """Whether this process runs as root."""
    return os.geteuid() == 0


@functools.cache
def _bwrap_path() -> str | None:
    """The path of a working ``bwrap``, or None (the probe runs once per process)."""
    path = shutil.which("bwrap")
    if not path:
        return None
    probe = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--tmpfs", "/tmp", "--unshare-pid", "--unshare-net", "--die-with-parent"]
    if _is_root():
        probe += ["--cap-drop", "ALL"]
    try:
        ok = subprocess.run([*probe, "--", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return path if ok else None


def sandbox_available() -> bool:
    """Whether kernels can be sandboxed with bubblewrap on this machine.

    Returns
    -------
    bool
        True if ``bwrap`` is installed and can create a sandbox (checked once by running
        ``true`` in one). When False, :func:`configure` still applies the memory cap,
        timeouts and output caps; :data:`MISSING_BWRAP` is the message to show.
    """
    return _bwrap_path() is not None


@functools.cache
def _bwrap_has_size(bwrap: str) -> bool:
    """Whether this bwrap knows ``--size`` (the size of a tmpfs; not in old bubblewraps)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in text


# --------------------------------------------------------------------------------------
# The kernelspec and the launcher it runs
# --------------------------------------------------------------------------------------

def _sandbox_ids() -> tuple[int, int] | None:
    """(uid, gid) the kernel drops to when grading runs as root, else None."""
    if not _is_root():
        return None
    import pwd

    try:
        entry = pwd.getpwnam(_SANDBOX_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _python_paths() -> list[str]:
    """Folders the kernel's Python needs (venv, base install, this project)."""
    here = Path(__file__).resolve().parent.parent
    paths = {sys.prefix, sys.base_prefix, str(here / "autograder")}
    course = here / "course"
    if course.is_dir():
        paths.add(str(course))
    real = os.path.realpath(sys.executable)
    paths.add(str(Path(real).parent.parent))
    return sorted(paths)


def write_kernelspec(
    kernel_dir: Path,
    limits: Limits,
    *,
    run_dir: Path | None,
    readable: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    hide: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
) -> Path:
    """Write the sandbox kernelspec (``kernel.json``) and its launch spec into ``kernel_dir``.

    Parameters
    ----------
    kernel_dir : Path
        Folder of the kernelspec; its name is the kernel name.
    limits : Limits
        Limits to apply.
    run_dir : Path or None
        Folder of the kernels' connection files and IPC sockets, bound read-write into
        the sandbox (None: nothing to bind).
    readable, writable, hide : sequence of Path
        Extra read-only and read-write folders, and folders replaced by an empty
        read-only directory in the sandbox (see :func:`configure`).
    env : mapping, optional
        Environment variables set in the kernel.

    Returns
    -------
    Path
        The ``kernel.json`` written.
    """
    kernel_dir = Path(kernel_dir)
    kernel_dir.mkdir(parents=True, exist_ok=True)
    bwrap = _bwrap_path() if limits.sandbox else None
    ids = _sandbox_ids() if bwrap else None
    spec = {
        "python": sys.executable,
        "memory_bytes": int(limits.memory_bytes),
        "file_bytes": int(limits.tmp_bytes),
        "extensions": list(limits.extensions),
        "keep_env": list(KEEP_ENV),
        "set_env": dict(env or {}),
        "bwrap": bwrap,
        "bwrap_size": bool(bwrap and _bwrap_has_size(bwrap)),
        "tmp_bytes": int(limits.tmp_bytes),
        "uid": ids[0] if ids else None,
        "gid": ids[1] if ids else None,
        "python_paths": _python_paths(),
        "readable": [str(Path(p).resolve()) for p in readable],
        "writable": [str(Path(p).resolve()) for p in writable]
        + ([str(run_dir)] if run_dir else []),
        "hide": [str(Path(p).resolve()) for p in hide],
        "writable_cwd": bool(limits.writable_cwd),
    }
    launch = kernel_dir / "launch.json"
    launch.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    kernel = {
        "argv": [sys.executable, "-I", "-S", str(Path(__file__).resolve()), str(launch),
                 "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        # A SIGINT sent to the process group would kill bwrap itself (it does not forward
        # signals): ask ipykernel to interrupt itself over the control channel instead.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    path = kernel_dir / "kernel.json"
    path.write_text(json.dumps(kernel, indent=1), encoding="utf-8")
    return path


def _under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _depth(path: str) -> int:
    """Number of components of ``path`` ("/" is 1)."""
    return len(Path(path).parts)


def _kernel_env(environ: Mapping[str, str], spec: Mapping[str, Any]) -> dict[str, str]:
    """The kernel's environment: a few variables of ``environ``, plus the sandbox's."""
    keep = set(spec["keep_env"])
    env = {k: v for k, v in environ.items() if k in keep or k.startswith("LC_")}
    # glibc reserves 64 MiB of address space per thread arena: with ipykernel's threads
    # that is a quarter of a 2 GiB RLIMIT_AS gone before any student code runs.
    env["MALLOC_ARENA_MAX"] = "2"
    if spec["bwrap"]:
        env.update(SANDBOX_ENV)
    env.update(spec["set_env"])
    return env


def _bwrap_argv(spec: Mapping[str, Any], cwd: str, env: Mapping[str, str]) -> list[str]:
    """The ``bwrap`` arguments (up to ``--``) for a kernel started in ``cwd``."""
    root = spec["uid"] is not None or _is_root()
    args = [spec["bwrap"], "--die-with-parent", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if root:
        # Root keeps every capability in bwrap by default, and could remount / read-write.
        args += ["--cap-drop", "ALL"]
        if spec["uid"] is not None:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    size = ["--size", str(spec["tmp_bytes"])] if spec["bwrap_size"] else []
    args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             *size, "--perms", "1777", "--tmpfs", "/tmp",
             *size, "--perms", "1777", "--tmpfs", "/dev/shm"]

    hide = {os.path.realpath(p) for p in spec["hide"] if os.path.isdir(p)}
    hide -= {"/", "/tmp", "/dev/shm"}
    # What Python needs is shown even inside a hidden folder, but does not show a hidden
    # folder itself again (say PYTHONPATH=<project> with <project> hidden: its packages
    # are bound one by one).
    pythonpath = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    implicit = [os.path.realpath(p) for p in [*spec["python_paths"], *pythonpath]]
    readable = [p for p in implicit if p not in hide]
    readable += [os.path.realpath(p) for p in spec["readable"]]
    writable = [os.path.realpath(p) for p in spec["writable"]]
    (writable if spec["writable_cwd"] else readable).append(os.path.realpath(cwd))
    binds = {p: "--ro-bind" for p in readable if os.path.exists(p)}
    binds.update({p: "--bind" for p in writable if os.path.exists(p)})
    tmpfs = {"/tmp", "/dev/shm"}

    def mount_of(path: str) -> str:
        """The deepest mount (a tmpfs or a bind) that ``path`` lies in, in the sandbox."""
        inside = [m for m in (*tmpfs, *hide, *binds) if _under(path, m) and m != path]
        return max(inside, key=_depth, default="/")

    if spec["uid"] is not None:
        # The kernel runs as another user: a real folder on the way to what it must see
        # that this user cannot enter (say a 0700 home) is replaced by an empty one, which
        # only hides what that user could not read anyway.
        for path in binds:
            for parent in map(str, Path(path).parents):
                if (parent != "/" and parent not in binds and mount_of(parent) not in
                        tmpfs | hide and not os.stat(parent).st_mode & stat.S_IXOTH):
                    hide.add(parent)
    # Folders bwrap creates in a tmpfs to mount something deeper: 0755, not its 0700.
    made = {parent for path in [*binds, *hide] for parent in map(str, Path(path).parents)
            if parent not in binds and parent not in hide and mount_of(parent) in tmpfs | hide}
    # Shallow first: a folder bound inside a hidden one stays visible; a hidden folder
    # inside a bound one stays hidden.
    ops = [(_depth(p), 0, ["--tmpfs", p]) for p in hide]
    ops += [(_depth(p), 1, ["--perms", "0755", "--dir", p]) for p in made]
    ops += [(_depth(p), 2, [how, p, p]) for p, how in binds.items()]
    for _, _, op in sorted(ops):
        args += op
    for p in sorted(hide, key=_depth):
        if p not in binds:
            args += ["--remount-ro", p]
    args += ["--chdir", cwd]
    return args


_BECOME = ("import os, sys; os.setgroups([]); os.setgid(int(sys.argv[2])); "
           "os.setuid(int(sys.argv[1])); os.execv(sys.argv[3], sys.argv[3:])")


def _launch(argv: list[str]) -> int:
    """Start a kernel: ``sandbox.py LAUNCH_JSON CONNECTION_FILE [ipykernel args...]``.

    Runs in the kernel's process (jupyter_client starts it with the notebook's folder as
    working directory) and ends by ``exec``-ing bubblewrap, or the kernel directly.
    """
    import resource

    if len(argv) < 2:
        print("usage: sandbox.py LAUNCH_JSON CONNECTION_FILE [ARGS...]", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    connection_file, extra = argv[1], argv[2:]
    memory = spec["memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec["file_bytes"], spec["file_bytes"]))
    try:  # die with the grading process (bwrap's --die-with-parent does too)
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    env = _kernel_env(os.environ, spec)
    # parent_handle=1: no parent poller (inside the sandbox the kernel's parent is bwrap's
    # init, pid 1; --die-with-parent ends the sandbox with the grader instead) and no
    # "Ctrl-C will not work" banner in the grader's log.
    kernel = [spec["python"], "-m", "ipykernel_launcher", "-f", connection_file,
              "--HistoryManager.enabled=False", "--IPKernelApp.parent_handle=1"]
    if spec["extensions"]:
        kernel += [f"--IPKernelApp.extra_extensions={ext}" for ext in spec["extensions"]]
        kernel += ["--IPKernelApp.reraise_ipython_extension_failures=True"]
    kernel += extra
    if not spec["bwrap"]:
        os.execve(spec["python"], kernel, env)
    cwd = os.getcwd()
    uid, gid = spec["uid"], spec["gid"]
    if uid is not None:
        os.chown(connection_file, uid, gid)
        mode = os.stat(cwd).st_mode
        if not mode & stat.S_IXOTH or not mode & stat.S_IROTH:
            print(f"sandbox: the kernel runs as uid {uid} and cannot enter {cwd} "
                  f"(mode {stat.filemode(mode)}): make it readable by others (755)",
                  file=sys.stderr)
            return 1
        # Inside the sandbox, become that user: setuid() clears the two capabilities left
        # (they stay only "inheritable", which no_new_privs, set by bwrap, makes inert).
        kernel = [spec["python"], "-I", "-S", "-c", _BECOME, str(uid), str(gid), *kernel]
    os.execve(spec["bwrap"], [*_bwrap_argv(spec, cwd, env), "--", *kernel], env)
    return 1  # not reached


# --------------------------------------------------------------------------------------
# Configuring nbgrader
# --------------------------------------------------------------------------------------

_RUN_DIRS: list[Path] = []


def _cleanup_run_dirs() -> None:
    """Remove this process's run folders (at exit)."""
    for path in _RUN_DIRS:
        shutil.rmtree(path, ignore_errors=True)


def _make_run_dir(owner: tuple[int, int] | None) -> Path:
    """A short private folder for connection files and IPC sockets, removed at exit.

    Folders left by grading processes that died are removed first.

    Under ``/tmp``: Unix socket paths are limited to 107 bytes, and inside the sandbox the
    folders above it are the private tmpfs's, which the kernel's user can always enter.
    """
    base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    for old in Path(base).glob("sbx-*-*"):  # left by grading processes that were killed
        pid = old.name.split("-")[1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"sbx-{os.getpid()}-", dir=base))
    if owner:
        os.chown(path, *owner)  # the kernel creates its IPC sockets there
    if not _RUN_DIRS:
        atexit.register(_cleanup_run_dirs)
    _RUN_DIRS.append(path)
    return path


def configure(
    config: Any,
    workdir: Path,
    limits: Limits,
    writable: Sequence[Path] = (),
    *,
    readable: Sequence[Path] = (),
    hide: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
) -> None:
    """Make every kernel nbgrader starts for autograding a sandboxed, limited one.

    Edits ``config`` (a traitlets ``Config``, e.g. the one :func:`autograder.nbg.api_for`
    builds, before the ``NbGraderAPI`` is made from it) in place: nbgrader's ``Execute``
    preprocessor is replaced by :class:`SandboxExecute` in ``Autograde``, which always
    starts the kernelspec written to ``workdir/kernels/course-sandbox`` (whatever the
    notebook's metadata says), over IPC sockets in a private folder under ``/tmp``.

    Parameters
    ----------
    config : traitlets.config.Config
        The nbgrader configuration to edit.
    workdir : Path
        A folder of this grading process (one per worker); the kernelspec goes there.
    limits : Limits
        Memory, time and output limits; ``limits.sandbox`` turns bubblewrap off.
    writable : sequence of Path, optional
        Folders the kernel may write into (besides its private ``/tmp``). When grading
        runs as root the kernel runs as ``nobody``: they are given to that user (chown).
    readable : keyword-only, sequence of Path, optional
        Folders to show read-only even if they lie under ``/tmp`` or a hidden folder
        (the kernel's Python, this project's ``autograder``/``course`` and the
        ``PYTHONPATH`` entries are shown anyway).
    hide : keyword-only, sequence of Path, optional
        Folders replaced by an empty read-only folder in the sandbox, e.g. the course root
        (gradebook, ``source/``, other students' submissions). The grader's home folder
        is always hidden. The notebook's own folder, the ``readable`` ones and what the
        kernel's Python needs stay visible inside them.
    env : keyword-only, mapping, optional
        Environment variables to set in the kernel. Only a few variables of the grading
        process reach the kernel (:data:`KEEP_ENV`).

    Notes
    -----
    Without a usable ``bwrap`` (see :func:`sandbox_available`), or with
    ``limits.sandbox=False``, the kernel still gets the memory cap, the timeouts and the
    output caps, but runs unconfined.
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    workdir = Path(workdir).resolve()
    sandboxed = limits.sandbox and sandbox_available()
    ids = _sandbox_ids() if sandboxed else None
    run_dir = _make_run_dir(ids)
    kernels = workdir / "kernels"
    write_kernelspec(kernels / KERNEL_NAME, limits, run_dir=run_dir, readable=readable,
                     writable=writable, hide=[*hide, Path.home()], env=env)
    if ids:
        for folder in writable:
            if Path(folder).is_dir():
                os.chown(folder, *ids)

    execute_class = _execute_class()
    if "autograde_preprocessors" in config.Autograde:
        chain = list(config.Autograde.autograde_preprocessors)
    else:
        chain = list(Autograde.class_traits()["autograde_preprocessors"].default())
    chain = [execute_class if pp in (Execute, "nbgrader.preprocessors.Execute")
             or (isinstance(pp, type) and issubclass(pp, Execute)) else pp
             for pp in chain]  # an executor set before (the judge's) is replaced too
    if execute_class not in chain:
        chain.insert(0, execute_class)
    config.Autograde.autograde_preprocessors = chain

    config.Execute.kernel_name = KERNEL_NAME
    config.Execute.timeout = int(limits.cell_timeout)
    config.Execute.interrupt_on_timeout = True
    config.Execute.shutdown_kernel = "immediate"
    config.SandboxExecute.kernel_dirs = [str(kernels)]
    config.SandboxExecute.run_dir = str(run_dir)
    config.SandboxExecute.max_output_chars = int(limits.max_output_chars)
    config.SandboxExecute.max_output_lines = int(limits.max_output_lines)
    config.SandboxExecute.max_message_bytes = int(limits.max_message_bytes)
    config.LimitOutput.max_lines = int(limits.max_output_lines)
    config.LimitOutput.max_traceback = int(limits.max_traceback)


# --------------------------------------------------------------------------------------
# The Execute preprocessor (built on first use: the launcher above must import nothing
# beyond the standard library)
# --------------------------------------------------------------------------------------

_TRUNCATED = ("\n... output truncated: a cell keeps at most {lines} lines and {chars} characters "
              "of output ...\n")


def _text_size(value: Any) -> int:
    """Characters in an output's data (nested dicts and lists of strings)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_text_size(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_text_size(v) for v in value)
    return len(str(value))


def _clip_lines(text: str, lines: int) -> str:
    """The first ``lines`` lines of ``text`` (newlines kept)."""
    if lines < 0:
        return text
    cut = -1
    for _ in range(lines):
        cut = text.find("\n", cut + 1)
        if cut < 0:
            return text
    return text[:cut + 1]


@functools.cache
def _capped_client_class(max_bytes: int) -> type:
    """An async kernel client whose sockets refuse messages over ``max_bytes``."""
    import zmq
    import zmq.asyncio
    from jupyter_client.asynchronous import AsyncKernelClient
    from traitlets import default

    class CappedKernelClient(AsyncKernelClient):
        """Kernel client with ZeroMQ's ``MAXMSGSIZE`` set on every socket."""

        @default("context")
        def _context_default(self) -> zmq.asyncio.Context:
            self._created_context = True
            context = zmq.asyncio.Context()
            context.setsockopt(zmq.MAXMSGSIZE, max_bytes)
            return context

    return CappedKernelClient


@functools.cache
def _execute_class() -> type:
    """Build :class:`SandboxExecute` (nbgrader is imported only when it is needed)."""
    import uuid

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path
    from jupyter_core.utils import ensure_async, run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output
    from nbgrader.preprocessors import Execute
    from traitlets import Bool, Float, Integer, List, Unicode

    class SandboxExecute(Execute):
        """nbgrader's ``Execute`` for untrusted code: sandbox kernel, capped outputs.

        * The kernel is ``kernel_name`` looked up first in ``kernel_dirs``, whatever the
          notebook's metadata says, and talks over IPC sockets in ``run_dir``.
        * Outputs are capped as they arrive (nbgrader's ``LimitOutput`` only trims them
          after the notebook has run): a cell keeps at most ``max_output_chars``
          characters and ``max_output_lines`` lines of output. Error outputs are always
          kept, as nbgrader grades a test cell by them, with long messages clipped.
        * Messages larger than ``max_message_bytes`` are refused by the sockets.
        * With ``grade_after_kernel_death`` (the default), a kernel that dies, or stays
          busy after a timed-out cell was interrupted, is killed; that cell and every
          later code cell get an error output, and the notebook is graded (those cells
          score 0) instead of the whole submission failing. A cell whose output was lost
          (too large a message) gets an error too, and execution goes on in the same
          kernel.
        """

        kernel_dirs = List(Unicode(), help="Folders searched first for kernelspecs.").tag(
            config=True)
        run_dir = Unicode("", help="Folder of connection files and IPC sockets; empty: "
                                   "jupyter_client's default (TCP on localhost).").tag(config=True)
        max_output_chars = Integer(100_000, help="Characters of output kept per cell "
                                                 "(-1: no limit).").tag(config=True)
        max_output_lines = Integer(1000, help="Lines of stream output kept per cell "
                                              "(-1: no limit).").tag(config=True)
        max_message_bytes = Integer(64 * MIB, help="Largest message accepted from the "
                                                   "kernel (-1: no limit).").tag(config=True)
        grade_after_kernel_death = Bool(True, help="Grade the notebook when its kernel "
                                                   "dies or hangs (later cells score 0) "
                                                   "rather than fail.").tag(config=True)
        recover_timeout = Float(5.0, help="Seconds a kernel has to answer after a cell "
                                          "timed out and was interrupted before it is "
                                          "killed.").tag(config=True)

        _budget_msg: str | None = None
        _used_chars = 0
        _used_lines = 0
        _noted = False
        _stopped = ""

        # -- the kernel ------------------------------------------------------------

        def create_kernel_manager(self):  # noqa: D102 (see nbclient)
            if not self.kernel_name:
                self.kernel_name = self.nb.metadata.get("kernelspec", {}).get("name", "")
            kwargs: dict[str, Any] = {}
            if self.kernel_dirs:
                kwargs["kernel_spec_manager"] = KernelSpecManager(
                    kernel_dirs=[*self.kernel_dirs, *jupyter_path("kernels")])
            if self.kernel_name:
                kwargs["kernel_name"] = self.kernel_name
            self.km = self.kernel_manager_class(config=self.config, **kwargs)
            if self.run_dir:
                self.km.transport = "ipc"
                self.km.connection_file = os.path.join(
                    self.run_dir, f"k-{uuid.uuid4().hex[:12]}.json")
            if self.max_message_bytes > 0:
                self.km.client_factory = _capped_client_class(int(self.max_message_bytes))
            return self.km

        def preprocess(self, nb, resources=None, km=None):  # noqa: D102
            self._stopped = ""
            self._reset_budget(None)
            return super().preprocess(nb, resources, km)

        def preprocess_cell(self, cell, resources, index):  # noqa: D102
            if not self.grade_after_kernel_death:
                return super().preprocess_cell(cell, resources, index)
            if self._stopped:
                if cell.cell_type == "code" and cell.source.strip():
                    cell.outputs = [self._error("KernelStopped", f"not run: {self._stopped}")]
                return cell, self.resources
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._stop(cell, "DeadKernelError", "the kernel died while running this cell "
                           "(it crashed, exited or was killed)")
            except CellTimeoutError:
                if self._responsive():
                    cell.outputs.append(self._error(
                        "OutputLost", "some output of this cell was lost (a message larger "
                        f"than {self.max_message_bytes} bytes?)"))
                else:
                    self._stop(cell, "CellTimeoutError", f"the cell ran longer than "
                               f"{self.timeout} s and did not stop when interrupted")
            return cell, self.resources

        @staticmethod
        def _error(ename: str, evalue: str):
            return new_output("error", ename=ename, evalue=evalue,
                              traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])

        def _stop(self, cell, ename: str, why: str) -> None:
            """Kill the kernel; ``cell`` gets an error output, later cells will too."""
            self.log.error("Stopping the kernel: %s", why)
            self._stopped = f"the kernel was stopped earlier: {why}"
            cell.outputs.append(self._error(ename, f"{why}; the kernel was stopped"))
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already dead: nothing to kill
                self.log.debug("kernel shutdown failed", exc_info=True)

        def _responsive(self) -> bool:
            """Whether the kernel answers within ``recover_timeout``, on new channels.

            A message over ``max_message_bytes`` makes ZeroMQ drop the connection for good:
            a new client (new sockets) asks.
            """

            async def reconnect() -> None:
                await ensure_async(self.kc.stop_channels())
                self.kc = self.km.client()
                await ensure_async(self.kc.start_channels())
                await ensure_async(self.kc.wait_for_ready(timeout=self.recover_timeout))
                self.kc.allow_stdin = False

            try:
                if not run_sync(self.km.is_alive)():
                    return False
                run_sync(reconnect)()
                return True
            except Exception:
                self.log.debug("the kernel did not answer", exc_info=True)
                return False

        # -- output caps -----------------------------------------------------------

        def _reset_budget(self, msg_id: str | None) -> None:
            self._budget_msg = msg_id
            self._used_chars = self._used_lines = 0
            self._noted = False

        def _truncated(self) -> str:
            return _TRUNCATED.format(lines=self.max_output_lines, chars=self.max_output_chars)

        def clear_output(self, outs, msg, cell_index):  # noqa: D102
            super().clear_output(outs, msg, cell_index)
            if not msg["content"].get("wait"):
                self._reset_budget(self._budget_msg)

        def output(self, outs, msg, display_id, cell_index):  # noqa: D102
            parent = msg["parent_header"].get("msg_id")
            if parent != self._budget_msg or self.clear_before_next_output:
                self._reset_budget(parent)
            limit_chars = self.max_output_chars
            content, msg_type = msg["content"], msg["msg_type"]
            if limit_chars < 0:
                return super().output(outs, msg, display_id, cell_index)
            if msg_type == "error":
                # Always kept: it is what makes a test cell fail. Clip what it says.
                content["evalue"] = str(content.get("evalue", ""))[:limit_chars]
                content["traceback"] = [str(line)[:limit_chars]
                                        for line in content.get("traceback", [])[:10_000]]
                return super().output(outs, msg, display_id, cell_index)
            left = limit_chars - self._used_chars
            if msg_type == "stream":
                text = str(content.get("text", ""))
                lines_left = (self.max_output_lines - self._used_lines
                              if self.max_output_lines >= 0 else -1)
                kept = _clip_lines(text[:max(left, 0)], max(lines_left, 0)
                                   if self.max_output_lines >= 0 else -1)
                if len(kept) < len(text):
                    if self._noted:
                        return None
                    self._noted = True
                    kept += self._truncated()
                content["text"] = kept
                self._used_chars += len(kept)
                self._used_lines += kept.count("\n")
                return super().output(outs, msg, display_id, cell_index)
            size = _text_size(content.get("data", {}))
            if size > left:
                if self._noted:
                    return None
                self._noted = True
                content["data"] = {"text/plain": self._truncated().strip()}
                content["metadata"] = {}
                size = 0
            self._used_chars += size
            return super().output(outs, msg, display_id, cell_index)

    SandboxExecute.__module__ = __name__
    SandboxExecute.__qualname__ = "SandboxExecute"
    return SandboxExecute


def __getattr__(name: str) -> Any:
    """``SandboxExecute``, built on first access (see :func:`_execute_class`)."""
    if name == "SandboxExecute":
        return _execute_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(_launch(sys.argv[1:]))
