"""A sandboxed, resource-limited kernel for autograding student notebooks.

Student code runs in the Jupyter kernel that nbgrader's ``Execute`` preprocessor (nbclient)
starts. :func:`configure` edits the nbgrader ``Config`` of a grading process so that every
such kernel

* has its address space capped (``RLIMIT_AS``, :attr:`Limits.memory_bytes`): a too large
  allocation raises ``MemoryError`` in the kernel instead of swapping the machine;
* runs inside Debian's bubblewrap (``bwrap``) when it is available: only the system's
  folders (:data:`SYSTEM_FOLDERS`), the kernel's Python and this project's ``autograder``
  and ``course`` packages are shown, read-only -- no home, workspace, project checkout or
  other submission, wherever they are; the notebook's own folder is a size-capped scratch
  tmpfs showing its files read-only (``np.save`` works; nothing reaches the host's disk);
  ``/tmp`` is a private and size-capped tmpfs, there is no network (loopback included),
  no view of other processes, and -- when grading runs as root -- the kernel runs as a
  uid of its own (``RLIMIT_NPROC``) with no capabilities;
* is watched by its launcher, which stays its parent: the memory of the whole process
  tree (PSS, forked children included) is capped, and so are its number of processes and
  what it writes into its connection file's folder; over a cap the tree is killed and
  the cell says why (``KernelKilled``);
* is stopped after :attr:`Limits.cell_timeout` seconds per cell (interrupted, then killed if
  it does not answer), and its outputs are capped while they arrive.

The kernel is described by a kernelspec written under ``workdir``
(``workdir/kernels/course-sandbox/kernel.json``) whose command is this file, run as a
script with ``python -I -S`` (standard library only, a few milliseconds): it sets the
resource limits, filters the environment, works out the bubblewrap mounts for the
notebook's folder and the connection file, starts ``bwrap`` (or, without it, the kernel
directly) as its child and watches it (:func:`_watch`). nbgrader uses it whatever
kernelspec the notebook names: the Execute preprocessor's ``kernel_name`` wins over the
notebook metadata.

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
#: When grading runs as root, kernels run as uids from here on (one per kernel).
_UID_BASE = 1_000_000
_UID_SPAN = 1_000_000


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
    scratch_bytes : int
        Size of the scratch folder: in the sandbox the notebook's folder is a private
        tmpfs of this size showing the folder's files read-only, so the student's code
        can write its own files there (``np.save``); nothing reaches the host's disk.
        0: the folder is read-only. Default 256 MiB.
    max_processes : int
        Processes the kernel may have at once (itself included); over it, a watchdog
        kills the kernel's whole process tree. When grading runs as root each kernel
        also runs as a uid of its own with ``RLIMIT_NPROC`` (threads count there too:
        ``8 * max_processes``). The memory cap counts the whole tree as well: the
        watchdog adds up the PSS of its processes. Default 32.
    run_dir_bytes : int
        Bytes the kernel may write into its connection file's folder (the one host
        folder it must be able to write to, for its sockets); over it, the kernel is
        killed and what it wrote is removed (as it is when the kernel ends). Default 16 MiB.
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
    scratch_bytes: int = 256 * MIB
    max_processes: int = 32
    run_dir_bytes: int = 16 * MIB
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
        "scratch_bytes": int(limits.scratch_bytes),
        "max_processes": int(limits.max_processes),
        "run_dir_bytes": int(limits.run_dir_bytes),
        # As root, each kernel runs as a uid of its own (uid_base + launcher pid % span).
        "uid_base": _UID_BASE if ids else None,
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
    # Only the system's folders are shown (read-only), not the whole file system: no
    # home, no workspace, no project, no submissions folder, wherever they are. The
    # root itself is an empty folder, made read-only at the end.
    args += _system_binds()
    args += ["--dev", "/dev", "--proc", "/proc",
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
    cwd = os.path.realpath(cwd)
    scratch = None
    if spec["writable_cwd"]:
        writable.append(cwd)
    elif spec.get("scratch_bytes", 0) > 0 and cwd not in ("/", "/tmp", "/dev/shm"):
        # The notebook's folder is a scratch folder: a size-capped tmpfs (np.save works,
        # nothing reaches the host's disk) showing the folder's own files read-only.
        scratch = cwd
        readable += [os.path.join(cwd, name) for name in sorted(os.listdir(cwd))]
    else:
        readable.append(cwd)
    binds = {p: "--ro-bind" for p in readable if os.path.lexists(p)}
    binds.update({p: "--bind" for p in writable if os.path.exists(p)})
    tmpfs = {"/", "/tmp", "/dev/shm", *([scratch] if scratch else [])}

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
    made = {parent for path in [*binds, *hide, *([scratch] if scratch else [])]
            for parent in map(str, Path(path).parents)
            if parent != "/" and parent not in binds and parent not in hide
            and parent != scratch and mount_of(parent) in tmpfs | hide}
    # Shallow first: a folder bound inside a hidden one stays visible; a hidden folder
    # inside a bound one stays hidden.
    ops = [(_depth(p), 0, ["--tmpfs", p]) for p in hide]
    if scratch:
        scratch_size = ["--size", str(spec["scratch_bytes"])] if spec["bwrap_size"] else []
        ops.append((_depth(scratch), 0, [*scratch_size, "--perms", "1777", "--tmpfs", scratch]))
    ops += [(_depth(p), 1, ["--perms", "0755", "--dir", p]) for p in made]
    ops += [(_depth(p), 2, [how, p, p]) for p, how in binds.items()]
    for _, _, op in sorted(ops):
        args += op
    for p in sorted(hide, key=_depth):
        if p not in binds:
            args += ["--remount-ro", p]
    # The new root and /dev are tmpfs folders bwrap made: nothing may be written there.
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", cwd]
    return args


#: Folders of the host shown read-only in the sandbox (when they exist): the system.
SYSTEM_FOLDERS = ("/usr", "/etc", "/sys", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def _system_binds() -> list[str]:
    """bwrap arguments showing :data:`SYSTEM_FOLDERS` (a symlink stays a symlink)."""
    args = []
    for path in SYSTEM_FOLDERS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
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
        return _watch(spec, argv[0], connection_file, kernel, env)
    cwd = os.getcwd()
    uid, gid = spec["uid"], spec["gid"]
    if uid is not None and spec.get("uid_base"):
        # A uid of its own: RLIMIT_NPROC counts this kernel's tasks only.
        uid = spec["uid_base"] + os.getpid() % _UID_SPAN
        nproc = 8 * int(spec.get("max_processes") or 32)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        run_dir = os.path.dirname(os.path.abspath(connection_file))
        for folder in spec["writable"]:
            if os.path.isdir(folder) and folder != run_dir:  # the run dir is 1777
                os.chown(folder, uid, gid)
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
    return _watch(spec, argv[0], connection_file,
                  [spec["bwrap"], *_bwrap_argv(spec, cwd, env)[1:], "--", *kernel], env)


# --------------------------------------------------------------------------------------
# The watchdog: the launcher stays as the kernel's parent and watches its process tree
# --------------------------------------------------------------------------------------

#: Seconds between two looks at the kernel's process tree.
WATCH_EVERY = 0.1


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (all its threads')."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            continue
    return out


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (processes, not threads)."""
    seen, todo = [], [pid]
    while todo and len(seen) < 100_000:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo += _children(p)
    return seen


def _memory(pid: int) -> int:
    """Bytes of memory a process holds: its PSS (shared pages divided), else its RSS."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return 0


def _folder_bytes(folder: str, keep: str) -> int:
    """Bytes the regular files under ``folder`` take on disk (``keep`` not counted)."""
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)
            if path == keep:
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_blocks * 512
    return total


def _clear_folder(folder: str, keep: str) -> None:
    """Remove what a kernel wrote into the run folder ``folder``.

    Sockets, ``keep`` and other kernels' small connection files stay.
    """
    import re

    connection = re.compile(r"k-[0-9a-f]{12}\.json")
    for base, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(base, name)
            try:
                st = os.lstat(path)
                if (path != keep and not stat.S_ISSOCK(st.st_mode)
                        and not (base == folder and connection.fullmatch(name)
                                 and st.st_size < 64 * 1024)):
                    os.unlink(path)
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(base, name))
            except OSError:
                pass


def stop_reason_path(launch_json: str | Path, connection_file: str | Path) -> Path:
    """Where the watchdog writes why it stopped a kernel (a folder the kernel cannot see)."""
    return Path(launch_json).parent / "stopped" / (Path(connection_file).name + ".txt")


def _watch(spec: Mapping[str, Any], launch_json: str, connection_file: str,
           argv: list[str], env: Mapping[str, str]) -> int:
    """Run ``argv`` as a child and watch its process tree until it ends.

    Over :attr:`Limits.memory_bytes` in total (PSS of every process of the tree), over
    :attr:`Limits.max_processes` processes, or over :attr:`Limits.run_dir_bytes` written
    into the connection file's folder (the one folder of the host it may write to), the
    whole tree is killed (bubblewrap's, with its PID namespace) and the reason written
    to :func:`stop_reason_path`. Returns the child's exit status.
    """
    import signal
    import time

    child = os.fork()
    if child == 0:  # pragma: no cover (replaced by exec)
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except OSError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    memory_cap = int(spec.get("tree_memory_bytes") or spec["memory_bytes"])
    max_procs = int(spec.get("max_processes") or 0)
    run_cap = int(spec.get("run_dir_bytes") or 0)
    run_dir = os.path.dirname(os.path.abspath(connection_file))
    watch_run_dir = run_cap > 0 and any(_under(run_dir, w) for w in spec["writable"])
    reason = ""
    status = 0
    ticks = 0
    while True:
        try:
            done, status = os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            break
        if done:
            break
        if not reason:
            pids = _tree(child)
            if max_procs and len(pids) - 1 > max_procs:  # bwrap and its init not counted
                reason = (f"the kernel started more than {max_procs - 2} processes (the "
                          "process cap of a grading kernel)")
            else:
                used = sum(_memory(p) for p in pids)
                if used > memory_cap:
                    reason = (f"the kernel's processes held {used / 2**30:.1f} GiB together, "
                              f"over the memory cap of {memory_cap / 2**30:.1f} GiB")
            if not reason and watch_run_dir and ticks % 5 == 0:
                written = _folder_bytes(run_dir, connection_file)
                if written > run_cap:
                    reason = (f"the kernel wrote {written / 2**20:.0f} MiB outside its "
                              "scratch folder (into its connection folder); removed")
            if reason:
                try:
                    target = stop_reason_path(launch_json, connection_file)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(reason, encoding="utf-8")
                except OSError:
                    pass
                print(f"sandbox watchdog: {reason}: killing the kernel", file=sys.stderr)
                for p in [child, *pids[1:]] if not spec["bwrap"] else [child]:
                    try:
                        os.kill(p, signal.SIGKILL)  # bwrap's PID namespace goes with it
                    except OSError:
                        pass
                if not spec["bwrap"]:
                    for p in _tree(child)[1:]:
                        try:
                            os.kill(p, signal.SIGKILL)
                        except OSError:
                            pass
        ticks += 1
        time.sleep(WATCH_EVERY)
    if watch_run_dir:
        _clear_folder(run_dir, connection_file)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


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
        path.chmod(0o1777)  # kernels of other uids too (one uid per kernel)
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
    # A kernel that starts slowly on a busy machine is no verdict (nbclient's default 60 s
    # failed a whole notebook under load); a stuck start still ends.
    config.Execute.startup_timeout = max(300, int(limits.cell_timeout))
    config.Execute.shutdown_kernel = "immediate"
    config.SandboxExecute.kernel_dirs = [str(kernels)]
    config.SandboxExecute.run_dir = str(run_dir)
    config.SandboxExecute.max_output_chars = int(limits.max_output_chars)
    config.SandboxExecute.max_output_lines = int(limits.max_output_lines)
    config.SandboxExecute.max_message_bytes = int(limits.max_message_bytes)
    config.SandboxExecute.scratch_note = (
        f"the notebook's folder holds at most {limits.scratch_bytes // MIB} MiB of your files "
        f"and /tmp {limits.tmp_bytes // MIB} MiB; one file at most {limits.tmp_bytes // MIB} MiB")
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


#: errno texts of the errors the sandbox's limits cause, and what to add to them.
_FILE_ERRORS = {
    "No space left on device": "full",
    "File too large": "full",
    "Read-only file system": "read-only",
}


def _explain_file_error(content: dict, scratch_note: str) -> None:
    """Add why to an error output the sandbox's file limits caused (in place)."""
    value = str(content.get("evalue", ""))
    kind = next((k for text, k in _FILE_ERRORS.items() if text in value), None)
    if kind is None or "(sandbox:" in value:
        return
    if kind == "full":
        note = ("(sandbox: the scratch space is full: " + (scratch_note or
                "the notebook's folder and /tmp hold a bounded amount of data") + ")")
    else:
        note = ("(sandbox: only the notebook's folder and /tmp can be written; everything "
                "else is read-only)")
    content["evalue"] = f"{value} {note}"
    traceback = list(content.get("traceback", []))
    content["traceback"] = [*traceback, note]


#: What starts a line the kernel's guard writes to stderr to make a test cell fail.
INTEGRITY_MARKER = "[integrity]"


def _stderr_to_stdout_in_tests(content: dict, nb: Any, cell_index: int) -> None:
    """Show a test cell's stderr on stdout (in place), but the guard's reports.

    nbgrader gives a test cell with any stderr output no points: a ``logging.warning`` or a
    library's progress bar during a test must cost nothing, as warnings do. Errors (what
    fails a test) are error outputs, not streams; the guard's ``[integrity]`` lines stay
    on stderr, as they are meant to fail the cell.
    """
    if content.get("name") != "stderr" or INTEGRITY_MARKER in str(content.get("text", "")):
        return
    try:
        meta = nb.cells[cell_index].metadata.get("nbgrader", {})
    except (AttributeError, IndexError, TypeError):
        return
    if meta.get("grade") and not meta.get("solution"):
        content["name"] = "stdout"


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
    import time
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
        scratch_note = Unicode("", help="Sentence added to a student's 'No space left' / "
                                        "'File too large' error (the scratch folder's "
                                        "size).").tag(config=True)
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
                killed = self._watchdog_reason()
                if killed:
                    self._stop(cell, "KernelKilled", f"the kernel was killed: {killed}")
                else:
                    self._stop(cell, "DeadKernelError", "the kernel died while running this "
                               "cell (it crashed, exited or was killed)")
            except CellTimeoutError:
                killed = self._watchdog_reason(wait=False)
                if killed:  # the watchdog killed it while the cell waited (a busy machine)
                    self._stop(cell, "KernelKilled", f"the kernel was killed: {killed}")
                elif self._responsive():
                    cell.outputs.append(self._error(
                        "OutputLost", "some output of this cell was lost (a message larger "
                        f"than {self.max_message_bytes} bytes?)"))
                else:
                    self._stop(cell, "CellTimeoutError", f"the cell ran longer than "
                               f"{self.timeout} s and did not stop when interrupted")
            return cell, self.resources

        def _watchdog_reason(self, wait: bool = True) -> str:
            """Why the sandbox's watchdog killed this kernel ("" if it did not)."""
            try:
                launch = next(a for a in self.km.kernel_spec.argv if a.endswith("launch.json"))
                path = stop_reason_path(launch, self.km.connection_file)
                for _ in range(20 if wait else 0):  # the watchdog writes it before it kills
                    if path.exists():
                        return path.read_text(encoding="utf-8")[:500]
                    if not run_sync(self.km.is_alive)():
                        break
                    time.sleep(0.1)
                return path.read_text(encoding="utf-8")[:500] if path.exists() else ""
            except Exception:
                return ""

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
                if msg_type == "stream":
                    _stderr_to_stdout_in_tests(content, self.nb, cell_index)
                if msg_type == "error":
                    _explain_file_error(content, self.scratch_note)
                return super().output(outs, msg, display_id, cell_index)
            if msg_type == "error":
                _explain_file_error(content, self.scratch_note)
            if msg_type == "error":
                # Always kept: it is what makes a test cell fail. Clip what it says.
                content["evalue"] = str(content.get("evalue", ""))[:limit_chars]
                content["traceback"] = [str(line)[:limit_chars]
                                        for line in content.get("traceback", [])[:10_000]]
                return super().output(outs, msg, display_id, cell_index)
            left = limit_chars - self._used_chars
            if msg_type == "stream":
                _stderr_to_stdout_in_tests(content, self.nb, cell_index)
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
