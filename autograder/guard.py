"""Integrity guard for the grading kernel: an IPython extension loaded before student code.

Student code runs in the grading kernel before the hidden tests, in the same process. This
extension makes sure that a patched reference or assertion function cannot make a wrong
answer pass. Load it when the kernel starts:

* nbgrader: ``c.Execute.extra_arguments = ["--ext=autograder.guard"]``;
* the sandbox: ``sandbox.configure(config, workdir, Limits(extensions=["autograder.guard"]),
  env=guard.kernel_env(), ...)``;
* nbclient: ``NotebookClient(nb, extra_arguments=["--ext=autograder.guard"])``.

At load it imports and snapshots what the hidden tests rely on: every function, class and
submodule of the loaded ``numpy``, ``scipy``, ``course``, ``contextlib``, ``functools``,
``operator`` and ``math`` modules (with the code and defaults of each Python function),
the built-ins, ``sys.setprofile``/``settrace`` and the ``sys.modules`` entries of those
modules. Then:

* assigning or deleting a snapshotted module attribute (``np.allclose = ...``), or
  replacing the ``__code__``/``__defaults__`` of a snapshotted function, is refused with
  :class:`IntegrityError`;
* after every cell, anything that changed anyway (through ``vars(module)``,
  ``sys.modules``, ``importlib.reload``, a class attribute...) is put back;
* before each test cell, the names the trusted cells bound (``assert_image_close``,
  ``by_hand``, ``np``, ``ndi``, ...) are bound again to what those cells bound, and after
  it the student's own bindings come back, so student cells run as written; test cells
  call the real built-ins (``range``, ``len``, ``isinstance``...) even where the notebook
  shadows them;
* ``sys.setprofile``/``sys.settrace`` (``by_hand`` relies on the profiler), ``os._exit``,
  ``os.kill``, ``signal.alarm``, ``exit()``, shell commands, subprocesses, ``ctypes`` and
  ``gc`` introspection called from student code are refused, and so is reading grading
  files (hidden tests, the gradebook, other students' folders) or writing into the course
  or the grading workspace.

Every event is written as one line beginning with ``[integrity]`` to the cell's output and
kept in :func:`reports`. Tampering that may have changed a test cell's result is written
to that cell's stderr, which makes nbgrader give the cell no points; a repair made before
a test cell (so that it runs honestly) is written to stdout, which costs nothing.

Trusted cells are the locked cells of the assignment's source notebook, recognised by a
hash of their source: from ``$AUTOGRADER_GUARD_TRUSTED`` (see :func:`kernel_env`), from the
notebook ``$AUTOGRADER_GUARD_NOTEBOOK``, or, in nbgrader's layout
``<root>/autograded/<student>/<assignment>/``, from
``<root>/source/<assignment>/<assignment>.ipynb``. Without any, the first cell run and the
cells that begin with ``\"\"\"Check that`` are trusted (weaker: a student cell can pretend).
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib
import json
import linecache
import operator
import os
import sys
import time
import types
import warnings
from pathlib import Path

__all__ = ["MARKER", "IntegrityError", "kernel_env", "load_ipython_extension", "reports", "stats",
           "trusted_cells"]

MARKER = "[integrity]"
#: Environment variable: JSON ``{assignment: {sha256 of a locked cell's source: "test" or
#: "locked"}}`` (see :func:`kernel_env`); the kernel picks its folder's assignment.
TRUSTED_ENV = "AUTOGRADER_GUARD_TRUSTED"
#: Environment variable: path of a notebook whose locked cells are trusted.
NOTEBOOK_ENV = "AUTOGRADER_GUARD_NOTEBOOK"

#: Modules imported at load, so that they are snapshotted before any student code runs.
PRELOAD = ("numpy", "numpy.testing", "numpy.linalg", "numpy.lib.stride_tricks",
           "scipy", "scipy.ndimage", "scipy.signal", "scipy.optimize", "scipy.linalg",
           "course", "course.checks", "course.images", "contextlib", "math", "operator",
           "functools", "inspect")
#: Every loaded module of these packages is snapshotted (its functions, classes, submodules).
PACKAGES = ("numpy", "scipy", "course", "autograder", "contextlib", "math", "operator",
            "functools")
#: Packages whose data attributes (strings, numbers, tuples) are snapshotted too.
ALL_ATTRIBUTES = ("course",)
#: Modules whose Python classes have their attributes snapshotted (by_hand is a
#: contextmanager: patching _GeneratorContextManager.__exit__ would swallow its error).
CLASS_MODULES = ("contextlib", "course", "numpy.testing._private.utils")
#: Selected attributes of modules that are not snapshotted whole.
SELECTED = {
    "sys": ("setprofile", "getprofile", "settrace", "gettrace", "exit", "_getframe",
            "modules", "audit", "addaudithook", "meta_path", "path_hooks"),
    "os": ("_exit", "abort", "kill", "killpg", "system", "fork", "getpid"),
    "posix": ("_exit", "abort", "kill", "killpg", "system", "fork"),
    "signal": ("signal", "alarm", "setitimer", "raise_signal", "pthread_kill", "getsignal"),
    "_signal": ("signal", "alarm", "setitimer", "raise_signal", "pthread_kill", "getsignal"),
}
#: Built-ins IPython or ipykernel rebind while they run a cell.
_BUILTINS_SKIP = frozenset({"input", "raw_input", "help", "exit", "quit", "get_ipython",
                            "display", "copyright", "credits", "license", "breakpoint"})
#: Name under which test cells reach the real built-ins (see :class:`_RealBuiltins`).
BUILTINS_NAME = "__integrity_builtins__"

# Callers allowed to use the operations below (top-level package of the calling module).
_TRUST_PROFILE = frozenset({"course", "autograder", "profile", "cProfile", "pdb", "bdb",
                            "debugpy", "pydevd", "_pydevd_bundle", "coverage", "ipykernel"})
_TRUST_PROCESS = frozenset({"ipykernel", "jupyter_client", "jupyter_core", "zmq", "tornado",
                            "asyncio", "traitlets", "comm", "debugpy", "autograder",
                            "matplotlib", "PIL", "fontTools"})
_TRUST_CTYPES = _TRUST_PROCESS | {"numpy", "scipy", "course", "threadpoolctl"}
# Frames of these modules are skipped to find who asked for a process, a symbol, a file.
_LAUNCHERS = frozenset({"subprocess", "os", "posixpath", "asyncio", "pty", "ctypes",
                        "shutil", "pathlib", "glob", "io", "_io", "codecs", "tempfile"})

_WRAPPER_SKIP = frozenset({"signal", "os", "posix"})
_SECRET_PARTS = ("source", "submitted", "autograded", "feedback", "logs", "tests",
                 "workspace", ".git")



def _warning_to_stdout(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a warning on stdout, without its source line (which could quote a hidden test)."""
    sys.stdout.write(f"warning: {category.__name__}: {message}\n")

class IntegrityError(RuntimeError):
    """Student code tried to change or reach what grading relies on."""


class _GuardedModule(types.ModuleType):
    """A module whose snapshotted attributes cannot be reassigned or deleted."""

    __slots__ = ()

    def __setattr__(self, name, value):
        guard = _ACTIVE
        if guard is not None and not guard._restoring:
            original = guard._protected.get((id(self), name), _MISSING)
            if original is not _MISSING and value is not original:
                guard._refuse(f"refused assignment to {self.__name__}.{name}")
        types.ModuleType.__setattr__(self, name, value)

    def __delattr__(self, name):
        guard = _ACTIVE
        if guard is not None and not guard._restoring and (id(self), name) in guard._protected:
            guard._refuse(f"refused deletion of {self.__name__}.{name}")
        types.ModuleType.__delattr__(self, name)


_MISSING = object()
_ACTIVE: Guard | None = None


def _sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()


def _is_protectable(value) -> bool:
    return callable(value) or isinstance(value, types.ModuleType)


def _top(name) -> str:
    return name.partition(".")[0] if isinstance(name, str) else ""


class _RealBuiltins(ast.NodeTransformer):
    """Makes a test cell call the real built-ins, whatever the notebook's globals shadow.

    In a test cell, ``range(3)`` becomes ``__integrity_builtins__['range'](3)``: a student's
    ``range = lambda *a: []`` cannot empty the test's loops, and the student's own code,
    which runs as written, keeps its own ``range``. Names the test cell binds itself, and
    ``super`` (which needs its name), are left alone.
    """

    def __init__(self, guard: Guard, names: frozenset[str]):
        self.guard = guard
        self.names = names - {"super", "__debug__", "__build_class__", "__import__"}
        self._bound: set[str] = set()

    def visit(self, node):
        if not isinstance(node, ast.Module):
            return super().visit(node)
        try:
            if self.guard._cell_kind != "test":
                return node
            bound = set()
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                    bound.add(sub.id)
                elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    bound.add(sub.name)
                elif isinstance(sub, ast.arg):
                    bound.add(sub.arg)
                elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                    bound.update((a.asname or a.name).partition(".")[0] for a in sub.names)
                elif isinstance(sub, (ast.Global, ast.Nonlocal)):
                    bound.update(sub.names)
                elif isinstance(sub, ast.ExceptHandler) and sub.name:
                    bound.add(sub.name)
            self._bound = bound
            return ast.fix_missing_locations(self.generic_visit(node))
        except Exception as err:  # never break a cell; it runs untransformed
            self.guard._internal(err)
            return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.names and node.id not in self._bound:
            new = ast.Subscript(value=ast.Name(id=BUILTINS_NAME, ctx=ast.Load()),
                                slice=ast.Constant(value=node.id), ctx=ast.Load())
            return ast.copy_location(new, node)
        return node


class Guard:
    """The guard of one kernel; see the module docstring."""

    def __init__(self, ip):
        self.ip = ip
        self.user_ns = ip.user_ns
        self.reports: list[dict] = []
        self._restoring = False
        self._cell = 0
        self._cell_kind: str | None = None
        self._in_cell = False
        self._pre_done = -1
        self._post_done = -1
        self._first_cell_seen = False
        self._seconds = 0.0
        self._cpu_seconds = 0.0
        self._check_seconds = 0.0
        self._checks = 0
        self._cells = 0
        self._groups: list[tuple[str, dict, tuple, tuple]] = []
        self._nattrs = 0
        self._kwdefaults: list[tuple[str, types.FunctionType, dict, dict]] = []
        self._protected: dict[tuple[int, str], object] = {}
        self._funcs: list[tuple[str, types.FunctionType, object, object, object]] = []
        self._func_ids: dict[int, str] = {}
        self._class_groups: list[tuple[str, type, tuple, tuple]] = []
        self._modules: dict[str, types.ModuleType] = {}
        self._lists: list[tuple[str, list, list]] = []
        self._seen_modules: set[str] = set()
        self._trusted_cells: dict[str, str] = {}
        self._trusted_bind: dict[str, object] = {}
        self._data: dict[str, tuple[object, object]] = {}  # name -> (object, copy)
        self._swapped: dict[str, object] = {}
        self._inserted: dict[str, object] = {}
        self._noted: dict[str, int] = {}
        self._before: dict[str, object] = {}
        self._original_ids: set[int] = set()
        self._trusted_numbers: set[int] = set()  # IPython's numbers of trusted cells
        self._source = ""
        self._transformer: _RealBuiltins | None = None
        self._err = sys.stderr
        self._out = sys.stdout
        self._write_err = type(self._err).write
        self._write_out = type(self._out).write
        self._flush_err = type(self._err).flush
        self._flush_out = type(self._out).flush
        self._read_roots: list[str] = []
        self._write_roots: list[str] = []
        self._cwd = os.path.realpath(os.getcwd())
        self.load_seconds = 0.0
        self.import_seconds = 0.0
        self.notebook: str | None = None

    # ---------------------------------------------------------------- reporting
    def report(self, message: str, *, affects_test: bool = True) -> None:
        """Write one ``[integrity]`` line to the cell's output and keep it."""
        stderr = affects_test or self._cell_kind != "test"
        self.reports.append({"cell": self._cell, "kind": self._cell_kind or "student",
                             "message": message, "stream": "stderr" if stderr else "stdout"})
        line = f"{MARKER} {message}\n"
        try:
            if stderr:
                self._write_err(self._err, line)
                self._flush_err(self._err)
            else:
                self._write_out(self._out, line)
                self._flush_out(self._out)
        except Exception:  # never let reporting break the kernel
            try:
                os.write(2, line.encode())
            except OSError:
                pass

    def _refuse(self, message: str):
        self.report(message)
        raise IntegrityError(f"{message}: not allowed while a notebook is graded")

    # ---------------------------------------------------------------- install
    def install(self) -> None:
        start = time.perf_counter()
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # a missing optional module is not the guard's failure
                pass
        self.import_seconds = time.perf_counter() - start
        self._wrap_dangerous()
        self._snapshot_new_modules()
        if "__builtins__" in self.user_ns:
            self._trusted_bind["__builtins__"] = self.user_ns["__builtins__"]
        originals = types.MappingProxyType(
            {k: v for k, v in vars(builtins).items() if k not in _BUILTINS_SKIP})
        self.user_ns[BUILTINS_NAME] = originals
        self._trusted_bind[BUILTINS_NAME] = originals
        self._transformer = _RealBuiltins(self, frozenset(originals))
        self.ip.ast_transformers.append(self._transformer)
        self._find_trusted_cells()
        self._find_protected_paths()
        self._wrap_shell()
        sys.addaudithook(self._audit)
        self._register()
        self.load_seconds = time.perf_counter() - start

    def _register(self) -> None:
        events = self.ip.events
        for name, callback in (("pre_run_cell", self.pre_run_cell),
                               ("post_run_cell", self.post_run_cell)):
            if callback not in events.callbacks.get(name, []):
                events.register(name, callback)

    def _callbacks_ok(self) -> bool:
        try:
            events = self.ip.events
            return ("trigger" not in vars(events)
                    and self.pre_run_cell in events.callbacks["pre_run_cell"]
                    and self.post_run_cell in events.callbacks["post_run_cell"])
        except Exception:
            return False

    def _wrap_dangerous(self) -> None:
        guard = self

        def wrap(module, name, trusted, what):
            original = getattr(module, name, None)
            if original is None or getattr(original, "_integrity_wrapped", False):
                return

            def wrapper(*args, **kwargs):
                requester = guard._requester(sys._getframe(1), _WRAPPER_SKIP)
                if not guard._trusted(requester, trusted):
                    guard._refuse(f"refused {what} from student code")
                return original(*args, **kwargs)

            wrapper._integrity_wrapped = True
            wrapper.__name__ = getattr(original, "__name__", name)
            wrapper.__doc__ = getattr(original, "__doc__", None)
            wrapper.__wrapped__ = original
            setattr(module, name, wrapper)

        import signal as signal_module

        for module in filter(None, (os, sys.modules.get("posix"))):
            wrap(module, "_exit", _TRUST_PROCESS, "os._exit (it would kill the grading kernel)")
            wrap(module, "abort", _TRUST_PROCESS, "os.abort (it would kill the grading kernel)")
        for module in filter(None, (signal_module, sys.modules.get("_signal"))):
            for name in ("alarm", "setitimer", "raise_signal", "signal"):
                wrap(module, name, _TRUST_PROCESS, f"signal.{name}")

        original_exit = sys.exit

        def exit_wrapper(*args, **kwargs):
            requester = guard._requester(sys._getframe(1), ())
            if not guard._trusted(requester, _TRUST_PROCESS) and guard._in_cell:
                guard.report("student code called sys.exit (the cell stops with SystemExit)")
            return original_exit(*args, **kwargs)

        exit_wrapper._integrity_wrapped = True
        exit_wrapper.__wrapped__ = original_exit
        if not getattr(original_exit, "_integrity_wrapped", False):
            sys.exit = exit_wrapper

        ask_exit = self.ip.ask_exit

        def guarded_ask_exit(*args, **kwargs):
            if guard._in_cell:
                guard._refuse("refused exit()/quit() (it would shut down the grading kernel)")
            return ask_exit(*args, **kwargs)

        self.ip.ask_exit = guarded_ask_exit

    def _wrap_shell(self) -> None:
        guard = self
        for name in ("system", "system_piped", "system_raw", "getoutput"):
            original = getattr(self.ip, name, None)
            if original is None:
                continue

            def refuse(*args, _name=name, _original=original, **kwargs):
                if guard._in_cell:
                    guard._refuse("refused a shell command (!...) in the grading kernel")
                return _original(*args, **kwargs)

            setattr(self.ip, name, refuse)

    # ---------------------------------------------------------------- snapshot
    def _watched_module(self, name: str) -> bool:
        return _top(name) in PACKAGES or name == "builtins" or name in SELECTED

    def _snapshot_new_modules(self) -> None:
        for name, module in list(sys.modules.items()):
            if name in self._seen_modules or not isinstance(module, types.ModuleType):
                continue
            if not self._watched_module(name):
                continue
            self._seen_modules.add(name)
            self._modules[name] = module
            self._snapshot_module(name, module)

    def _snapshot_module(self, name: str, module: types.ModuleType) -> None:
        namespace = vars(module)
        everything = _top(name) in ALL_ATTRIBUTES
        if name == "builtins":
            names = [k for k, v in namespace.items()
                     if k not in _BUILTINS_SKIP and isinstance(v, (type, types.BuiltinFunctionType))
                     and (not k.startswith("__") or k in ("__import__", "__build_class__"))]
        elif name in SELECTED:
            names = [k for k in SELECTED[name] if k in namespace]
        else:
            names = [k for k, v in namespace.items()
                     if not (k.startswith("__") and k.endswith("__"))
                     and (everything or _is_protectable(v))]
        values = []
        for key in names:
            value = namespace[key]
            values.append(value)
            self._protected[(id(module), key)] = value
            self._original_ids.add(id(value))
            self._snapshot_function(f"{name}.{key}", value)
            if isinstance(value, list) and name == "sys":
                self._lists.append((f"sys.{key}", value, list(value)))
            if (isinstance(value, type) and getattr(value, "__module__", "") == name
                    and any(name == m or name.startswith(m + ".") for m in CLASS_MODULES)):
                self._snapshot_class(f"{name}.{key}", value)
        if names:
            self._groups.append((name, namespace, tuple(names), tuple(values)))
            self._nattrs += len(names)
        if type(module) is types.ModuleType:
            try:
                module.__class__ = _GuardedModule
            except TypeError:
                pass

    def _snapshot_function(self, label: str, value) -> None:
        func = value if isinstance(value, types.FunctionType) else None
        if func is None:
            impl = getattr(value, "_implementation", None) if callable(value) else None
            func = impl if isinstance(impl, types.FunctionType) else None
        if func is None or id(func) in self._func_ids:
            return
        self._func_ids[id(func)] = label
        kwdefaults = func.__kwdefaults__
        self._funcs.append((label, func, func.__code__, func.__defaults__, kwdefaults))
        if kwdefaults:
            self._kwdefaults.append((label, func, kwdefaults, dict(kwdefaults)))

    def _snapshot_class(self, label: str, cls: type) -> None:
        keys, values = [], []
        for key, value in list(vars(cls).items()):
            if key in ("__dict__", "__weakref__", "__doc__", "_abc_impl", "__parameters__"):
                continue
            keys.append(key)
            values.append(value)
            self._snapshot_function(f"{label}.{key}", value)
        self._class_groups.append((label, cls, tuple(keys), tuple(values)))

    # ---------------------------------------------------------------- checking
    def check(self, full: bool = False) -> list[str]:
        """Put back every snapshotted object that changed; return what was put back.

        The code and defaults of snapshotted functions cannot be changed (the audit hook
        refuses it); ``full`` checks them anyway, which costs a few milliseconds.
        """
        changed: list[str] = []
        start = time.perf_counter()
        is_not = operator.is_not
        self._restoring = True
        try:
            for name, namespace, keys, values in self._groups:
                if any(map(is_not, map(namespace.get, keys), values)):
                    for key, value in zip(keys, values, strict=True):
                        if namespace.get(key, _MISSING) is not value:
                            namespace[key] = value
                            changed.append(f"{name}.{key}")
            for label, cls, keys, values in self._class_groups:
                namespace = vars(cls)
                if any(map(is_not, map(namespace.get, keys), values)):
                    for key, value in zip(keys, values, strict=True):
                        if namespace.get(key, _MISSING) is not value:
                            type.__setattr__(cls, key, value)
                            changed.append(f"{label}.{key}")
            modules = sys.modules
            if any(map(is_not, map(modules.get, self._modules), self._modules.values())):
                for name, module in self._modules.items():
                    if modules.get(name) is not module:
                        modules[name] = module
                        changed.append(f"sys.modules[{name!r}]")
            for label, lst, items in self._lists:
                if len(lst) != len(items) or any(map(is_not, lst, items)):
                    lst[:] = items
                    changed.append(label)
            for label, _func, kwdefaults, copy in self._kwdefaults:
                if kwdefaults != copy:
                    kwdefaults.clear()
                    kwdefaults.update(copy)
                    changed.append(f"the keyword defaults of {label}")
            if full:
                for label, func, code, defaults, kwdefaults in self._funcs:
                    if func.__code__ is not code:
                        func.__code__ = code
                        changed.append(f"the code of {label}")
                    if func.__defaults__ is not defaults:
                        func.__defaults__ = defaults
                        changed.append(f"the defaults of {label}")
                    if func.__kwdefaults__ is not kwdefaults:
                        func.__kwdefaults__ = kwdefaults
                        changed.append(f"the keyword defaults of {label}")
        finally:
            self._restoring = False
            self._check_seconds += time.perf_counter() - start
            self._checks += 1
        return changed

    # ---------------------------------------------------------------- cells
    def _find_trusted_cells(self) -> None:
        cwd = Path(self._cwd)
        table = os.environ.get(TRUSTED_ENV)
        if table:
            try:
                by_assignment = json.loads(table)
            except ValueError:
                by_assignment = {}
            cells = by_assignment.get(cwd.name)
            if cells is None and len(by_assignment) == 1:
                cells = next(iter(by_assignment.values()))
            if cells:
                self._trusted_cells = dict(cells)
                self.notebook = f"${TRUSTED_ENV}[{cwd.name!r}]"
                return
        path = os.environ.get(NOTEBOOK_ENV)
        if not path and len(cwd.parts) > 3 and cwd.parent.parent.name == "autograded":
            candidate = cwd.parents[2] / "source" / cwd.name / f"{cwd.name}.ipynb"
            path = str(candidate) if candidate.exists() else None
        if not path:
            return
        try:
            self._trusted_cells = trusted_cells(path)
        except (OSError, ValueError):
            self.report(f"could not read the trusted notebook {path}; trusting the first cell "
                        "and the cells that begin with \"\"\"Check that")
            return
        self.notebook = path

    def _kind_of(self, source: str) -> str | None:
        if self._trusted_cells:
            return self._trusted_cells.get(_sha(source))
        if not self._first_cell_seen:
            return "locked"
        if source.lstrip().startswith('"""Check that'):
            return "test"
        return None

    def _is_original(self, value) -> bool:
        """True for a snapshotted object, or a module that is the one in sys.modules."""
        if isinstance(value, types.ModuleType):
            name = getattr(value, "__name__", None)
            return self._modules.get(name) is value or (
                isinstance(name, str) and not self._watched_module(name)
                and sys.modules.get(name) is value)
        return id(value) in self._original_ids

    def pre_run_cell(self, info=None) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            source = getattr(info, "raw_cell", None)
            if source is None:
                source = self._current_source()
            self._pre(source or "")
        except Exception as err:  # the guard must never break a cell
            self._internal(err)
        self._seconds += time.perf_counter() - start
        self._cpu_seconds += time.thread_time() - cpu

    def _current_source(self, code=None) -> str:
        if code is not None:  # IPython keeps each cell's (transformed) source in linecache
            entry = linecache.cache.get(code.co_filename)
            if entry and len(entry) > 2:
                return "".join(entry[2])
        try:
            return self.ip.history_manager.input_hist_raw[-1]
        except Exception:
            return ""

    def _pre(self, source: str) -> None:
        self._cell = self.ip.execution_count
        if self._pre_done == self._cell:
            return
        if self._post_done < self._pre_done:  # the last cell's post_run_cell did not run
            self._post()
        self._pre_done = self._cell
        self._cells += 1
        self._cell_kind = kind = self._kind_of(source)
        self._first_cell_seen = True
        self._in_cell = True
        self._source = source
        if kind and self._trusted_cells:
            self._trusted_numbers.add(self._cell - 1)
        if kind == "test":
            # nbgrader scores a test cell with any stderr output as 0: a harmless warning from
            # an honest solution (say, a RuntimeWarning) must not cost points, so during a test
            # cell warnings are shown on stdout. The guard's own reports stay on stderr.
            self._showwarning = warnings.showwarning
            warnings.showwarning = _warning_to_stdout
            for what in self.check(full=True):
                self.report(f"restored {what} before this test cell", affects_test=False)
            self._hide_student_bindings()
            if self._transformer not in self.ip.ast_transformers:
                self.ip.ast_transformers.append(self._transformer)
                self.report("the guard's AST transformer was removed; it is back",
                            affects_test=False)
        if kind:
            self._before = dict(self.user_ns)

    def _hide_student_bindings(self) -> None:
        ns = self.user_ns
        self._swapped, self._inserted = {}, {}
        for name, value in self._trusted_bind.items():
            current = ns.get(name, _MISSING)
            if current is not value:
                self._swapped[name] = current
                ns[name] = value
                self._inserted[name] = value
        for name, (value, copy) in self._data.items():
            current = ns.get(name, _MISSING)
            if current is not value or not _same_data(value, copy):
                fresh = _copy_data(copy)
                self._swapped.setdefault(name, current)
                ns[name] = fresh
                self._inserted[name] = fresh

    def post_run_cell(self, result=None) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            self._post()
        except Exception as err:
            self._internal(err)
        self._seconds += time.perf_counter() - start
        self._cpu_seconds += time.thread_time() - cpu

    def _post(self) -> None:
        if self._post_done >= self._pre_done:
            return
        self._post_done = self._pre_done
        kind = self._cell_kind
        try:
            if len(sys.modules) != getattr(self, "_nmodules", -1):
                self._snapshot_new_modules()
                self._nmodules = len(sys.modules)
            where = "during this test cell" if kind == "test" else "in this cell"
            for what in self.check():
                self.report(f"restored {what} (replaced {where})")
            if kind == "test":
                warnings.showwarning = getattr(self, "_showwarning", warnings.showwarning)
                self._after_test()
            elif kind == "locked":
                self._record(trust_data=True)
            else:
                self._note_student_bindings()
            if not self._callbacks_ok():
                self.report("the guard's cell callbacks were removed; they are back")
        finally:
            self._in_cell = False
            self._register()

    def _test_binds(self) -> set[str]:
        try:
            tree = ast.parse(self._source)
        except SyntaxError:
            return set()
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add((alias.asname or alias.name).partition(".")[0])
        return names

    def _acceptable(self, value, before_ids: set[int]) -> bool:
        """Could a test cell itself have bound this value?"""
        return self._is_original(value) or id(value) in before_ids or self._defined_here(value)

    def _after_test(self) -> None:
        ns = self.user_ns
        binds = self._test_binds()
        before_ids = {id(v) for v in self._before.values()}
        tampered = set()
        for name in set(self._trusted_bind) | set(self._inserted):
            expected = self._inserted.get(name, self._trusted_bind.get(name, _MISSING))
            current = ns.get(name, _MISSING)
            if current is expected:
                continue
            if name in binds and (name in self._data or self._acceptable(current, before_ids)):
                continue
            tampered.add(name)
            self.report(f"`{name}` was rebound during this test cell, by code the test called")
        for name in tampered:  # the student's binding comes back below, or the trusted one
            fallback = self._swapped.get(name, self._trusted_bind.get(name, _MISSING))
            if fallback is _MISSING:
                ns.pop(name, None)
            else:
                ns[name] = fallback
        self._record(trust_data=False, only=binds - tampered, before_ids=before_ids)
        for name, old in self._swapped.items():
            if name in tampered:
                continue
            if ns.get(name, _MISSING) is self._inserted.get(name, _MISSING):
                if old is _MISSING:
                    ns.pop(name, None)
                else:
                    ns[name] = old
        self._swapped, self._inserted = {}, {}

    def _defined_here(self, value) -> bool:
        """True for a function or class defined by the code of the running cell."""
        if isinstance(value, type):
            return getattr(value, "__module__", None) == self.user_ns.get("__name__")
        code = getattr(value, "__code__", None)
        if not isinstance(code, types.CodeType):
            return False
        try:
            number = self.ip.compile._filename_map.get(code.co_filename)
        except Exception:
            return False
        return number is not None and number in (self._cell, self._cell - 1)

    _SKIP_NAMES = frozenset({"In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_oh", "_ih",
                             "_dh", "exit", "quit", "get_ipython", "open"})

    def _record(self, trust_data: bool, only: set[str] | None = None,
                before_ids: set[int] | None = None) -> None:
        """Remember what a trusted cell bound, to restore it before each test cell."""
        for name, value in self.user_ns.items():
            if self._before.get(name, _MISSING) is value or name in self._SKIP_NAMES:
                continue
            if name.startswith("__") or (name.startswith("_") and name.lstrip("_i").isdigit()):
                continue
            if only is not None and name not in only:
                continue
            if _is_protectable(value):
                if before_ids is not None and not self._acceptable(value, before_ids):
                    continue
                if (self._cell_kind == "test" and not self._trusted_cells
                        and name in self._trusted_bind and not self._is_original(value)):
                    continue  # without the notebook, a cell may only pretend to be a test
                self._trusted_bind[name] = value
                self._noted.pop(name, None)
            elif trust_data and _data_copy_ok(value):
                self._data[name] = (value, _copy_data(value))
        self._before = {}

    def _note_student_bindings(self) -> None:
        ns = self.user_ns
        for name, value in self._trusted_bind.items():
            current = ns.get(name, _MISSING)
            if current is not value and self._noted.get(name) != id(current):
                self._noted[name] = id(current)
                self.report(f"this cell rebinds `{name}`, which the tests use: they run with "
                            "the notebook's own")

    def _internal(self, err: Exception) -> None:
        try:
            os.write(2, f"autograder.guard internal error: {type(err).__name__}: {err}\n".encode())
        except OSError:
            pass

    # ---------------------------------------------------------------- audit hook
    def _requester(self, frame, skip) -> str | None:
        """Module name of the first caller outside ``skip``; "__user__" for notebook code."""
        ns = self.user_ns
        while frame is not None:
            g = frame.f_globals
            if g is ns:
                if self._trusted_cells and self._trusted_numbers:
                    try:
                        number = self.ip.compile._filename_map.get(frame.f_code.co_filename)
                    except Exception:
                        number = None
                    if number is not None and number in self._trusted_numbers:
                        return "autograder.trusted_cell"
                return "__user__"
            name = g.get("__name__")
            if _top(name) in skip:
                frame = frame.f_back
                continue
            module = sys.modules.get(name) if isinstance(name, str) else None
            if module is None or getattr(module, "__dict__", None) is not g:
                return None
            return name
        return None

    @staticmethod
    def _trusted(requester, allowed) -> bool:
        return requester is not None and requester != "__user__" and _top(requester) in allowed

    def _audit(self, event: str, args: tuple) -> None:
        handler = _HANDLERS.get(event)
        if handler is None or self._restoring:
            return
        handler(self, event, args)

    def _on_exec(self, event, args):
        frame = sys._getframe(2)
        if frame.f_code.co_name != "run_code" or frame.f_globals.get("__name__") != \
                "IPython.core.interactiveshell":
            return
        if self._pre_done != self.ip.execution_count:
            self.report("the guard's cell callbacks were disabled; they are back")
            self._register()
            self._pre(self._current_source(args[0] if args else None))

    def _on_profile(self, event, args):
        if not self._trusted(self._requester(sys._getframe(2), ()), _TRUST_PROFILE):
            self._refuse(f"refused {event} from student code (the by-hand check relies on it)")

    def _on_setattr(self, event, args):
        obj, name = args[0], args[1]
        if (isinstance(obj, types.FunctionType) and id(obj) in self._func_ids
                and name in ("__code__", "__defaults__", "__kwdefaults__")):
            self._refuse(f"refused changing {name} of {self._func_ids[id(obj)]}")

    def _on_kill(self, event, args):
        if not self._trusted(self._requester(sys._getframe(2), ()), _TRUST_PROCESS):
            self._refuse(f"refused {event} from student code")

    def _on_process(self, event, args):
        requester = self._requester(sys._getframe(2), _LAUNCHERS)
        if not self._trusted(requester, _TRUST_PROCESS):
            what = " ".join(map(str, args[1])) if event == "subprocess.Popen" and args[1] else ""
            self._refuse(f"refused starting a process from student code ({event} {what})".rstrip())

    def _on_ctypes(self, event, args):
        if not self._trusted(self._requester(sys._getframe(2), _LAUNCHERS), _TRUST_CTYPES):
            self._refuse(f"refused {event} from student code")

    def _on_gc(self, event, args):
        requester = self._requester(sys._getframe(2), ())
        if requester == "__user__" or requester is None:
            self._refuse(f"refused {event} from student code")

    def _on_path(self, event, args):
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            write = _is_write(mode, flags)
        elif event in ("os.listdir", "os.scandir", "glob.glob", "glob.glob/2"):
            path, write = (args[0] if args else "."), False
        elif event in ("sqlite3.connect",):
            path, write = args[0], False
        else:  # removals and renames
            path, write = args[0], True
        self._check_path(event, path, write)
        if event in ("os.rename", "shutil.copyfile", "shutil.move", "os.link", "os.symlink"):
            if len(args) > 1:
                self._check_path(event, args[1], True)

    def _check_path(self, event, path, write) -> None:
        if isinstance(path, int) or path is None:
            return
        try:
            path = os.fsdecode(os.fspath(path))
        except TypeError:
            return
        if path in ("", ":memory:") or path.startswith("file:"):
            return
        full = os.path.realpath(os.path.join(self._cwd, os.path.expanduser(path)))
        if _inside(full, self._cwd):
            return
        roots = self._write_roots if write else self._read_roots
        for root in roots:
            if _inside(full, root):
                requester = self._requester(sys._getframe(3), _LAUNCHERS)
                if _top(requester) in ("importlib", "autograder") or (
                        write and "__pycache__" in full):
                    return
                self._refuse(f"refused {'writing' if write else 'reading'} {full} "
                             f"({event}): grading files are out of a notebook's reach")

    def _find_protected_paths(self) -> None:
        read, write = [], []
        try:
            from autograder.paths import ROOT
            root = os.path.realpath(str(ROOT))
        except Exception:
            root = None
        if root:
            read += [os.path.join(root, p) for p in _SECRET_PARTS]
            read.append(os.path.join(root, "gradebook.db"))
            write.append(root)
        workspace = os.environ.get("AUTOGRADER_GUARD_WORKSPACE")
        cwd = Path(self._cwd)
        if not workspace and len(cwd.parts) > 3 and cwd.parent.parent.name in (
                "autograded", "submitted", "feedback"):
            workspace = str(cwd.parents[2])
        if workspace:
            workspace = os.path.realpath(workspace)
            read.append(workspace)
            write.append(workspace)
        write.append(os.path.realpath(sys.prefix))
        write += [os.path.realpath(p) for p in (sys.base_prefix,) if p]
        self._read_roots = sorted(set(read))
        self._write_roots = sorted(set(write) | set(read))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_write(mode, flags) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    if isinstance(flags, int):
        return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC))
    return False


def _data_copy_ok(value) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None and isinstance(value, np.ndarray):
        return value.size <= 2_000_000
    return isinstance(value, (int, float, complex, str, bytes, tuple, frozenset, bool))


def _copy_data(value):
    copy = getattr(value, "copy", None)
    return copy() if callable(copy) and not isinstance(value, (str, bytes, tuple, frozenset)) \
        else value


def _same_data(value, copy) -> bool:
    try:
        import numpy as np

        if isinstance(copy, np.ndarray):
            return (isinstance(value, np.ndarray) and value.shape == copy.shape
                    and value.dtype == copy.dtype and np.array_equal(value, copy, equal_nan=True))
    except Exception:
        return False
    return True


_HANDLERS = {
    "exec": Guard._on_exec,
    "sys.setprofile": Guard._on_profile,
    "sys.settrace": Guard._on_profile,
    "object.__setattr__": Guard._on_setattr,
    "os.kill": Guard._on_kill,
    "os.killpg": Guard._on_kill,
    "signal.pthread_kill": Guard._on_kill,
    "subprocess.Popen": Guard._on_process,
    "os.system": Guard._on_process,
    "os.exec": Guard._on_process,
    "os.posix_spawn": Guard._on_process,
    "os.spawn": Guard._on_process,
    "os.forkpty": Guard._on_process,
    "pty.spawn": Guard._on_process,
    "ctypes.dlopen": Guard._on_ctypes,
    "ctypes.dlsym": Guard._on_ctypes,
    "ctypes.dlsym/handle": Guard._on_ctypes,
    "gc.get_referrers": Guard._on_gc,
    "gc.get_referents": Guard._on_gc,
    "gc.get_objects": Guard._on_gc,
    "open": Guard._on_path,
    "os.listdir": Guard._on_path,
    "os.scandir": Guard._on_path,
    "glob.glob": Guard._on_path,
    "sqlite3.connect": Guard._on_path,
    "os.remove": Guard._on_path,
    "os.rmdir": Guard._on_path,
    "os.rename": Guard._on_path,
    "os.truncate": Guard._on_path,
    "shutil.rmtree": Guard._on_path,
    "shutil.copyfile": Guard._on_path,
    "shutil.move": Guard._on_path,
    "os.link": Guard._on_path,
    "os.symlink": Guard._on_path,
}


def load_ipython_extension(ip) -> None:
    """Install the guard in this kernel (IPython calls it for ``--ext=autograder.guard``)."""
    global _ACTIVE
    if _ACTIVE is not None:
        return
    guard = Guard(ip)
    _ACTIVE = guard
    guard.install()


def reports() -> list[dict]:
    """What the guard of this kernel reported: cell number, cell kind, message, stream."""
    return list(_ACTIVE.reports) if _ACTIVE else []


def stats() -> dict:
    """Load time and time spent per cell by the guard of this kernel."""
    if _ACTIVE is None:
        return {}
    g = _ACTIVE
    return {"load_seconds": round(g.load_seconds, 4), "import_seconds": round(g.import_seconds, 4),
            "cells": g._cells, "cell_seconds": round(g._seconds, 4),
            "mean_ms_per_cell": round(1000 * g._seconds / max(g._cells, 1), 3),
            "mean_cpu_ms_per_cell": round(1000 * g._cpu_seconds / max(g._cells, 1), 3),
            "mean_ms_per_check": round(1000 * g._check_seconds / max(g._checks, 1), 3),
            "snapshot": {"attributes": g._nattrs, "functions": len(g._funcs),
                         "classes": len(g._class_groups), "modules": len(g._modules)},
            "trusted_cells": len(g._trusted_cells), "notebook": g.notebook}


def trusted_cells(notebook) -> dict[str, str]:
    """``{sha256 of source: "test" | "locked"}`` for the locked code cells of a notebook.

    ``notebook`` is a path or a notebook dict; use the *source* notebook, whose test cells
    hold the hidden tests as nbgrader runs them.
    """
    if isinstance(notebook, (str, os.PathLike)):
        with open(notebook, encoding="utf-8") as f:
            notebook = json.load(f)
    cells = {}
    for cell in notebook.get("cells", []):
        meta = (cell.get("metadata", {}) or {}).get("nbgrader", {}) or {}
        if cell.get("cell_type") == "code" and meta.get("locked"):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            cells[_sha(source)] = "test" if meta.get("grade") else "locked"
    return cells


def kernel_env(assignments: list[str] | None = None, source: Path | None = None) -> dict[str, str]:
    """Environment for grading kernels: which cells of each assignment are trusted.

    Pass it to the kernel (e.g. ``sandbox.configure(..., env=kernel_env())``) when the
    kernel cannot read ``<root>/source/`` itself (a sandbox hides it). Only hashes of the
    source notebooks' locked cells are passed, never their text.
    """
    from autograder.paths import SOURCE
    from autograder.paths import assignments as known

    source = Path(source or SOURCE)
    table = {}
    for name in assignments or known():
        path = source / name / f"{name}.ipynb"
        if path.exists():
            table[name] = trusted_cells(path)
    return {TRUSTED_ENV: json.dumps(table, separators=(",", ":"))}
