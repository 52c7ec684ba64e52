"""Static integrity scan of a submitted notebook, and the grading kernel's runtime reports.

:func:`scan` reads every code cell a student could write (solution cells and cells
without nbgrader metadata) with :mod:`ast` and flags what could make a wrong answer pass or
the grading fail: monkeypatching NumPy, SciPy, ``course`` or the built-ins; replacing the
names the tests use; exiting or killing the kernel; reading grading files; reaching into
the grading kernel; shell commands; by-hand functions that reach SciPy; and locked cells
that were edited or deleted (compared with the release notebook, not scanned).

:func:`runtime_flags` collects what :mod:`autograder.guard` reported while the notebook was
graded (the ``[integrity]`` lines in the autograded notebook's outputs).

Each :class:`Flag` carries a one-line message that says what and where, e.g.
``cell 13 (pad), line 3: calls numpy.pad in a by-hand function``. Cell numbers are indices
into the notebook's ``cells`` (markdown cells included, counting from 0).
"""

from __future__ import annotations

import ast
import builtins
import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["BY_HAND", "Flag", "KINDS", "flags_column", "runtime_flags", "scan", "summary"]

#: Functions each assignment asks to write by hand (NumPy only): their bodies must not
#: reach SciPy, numpy.pad, numpy.convolve or numpy.correlate (the tests' ``by_hand``).
BY_HAND: dict[str, frozenset[str]] = {
    "01_convolution_by_hand": frozenset({"window_sum", "correlate_valid", "pad", "correlate",
                                         "convolve"}),
    "03_feature_maps": frozenset({"conv2d", "conv2d_fast", "max_pool2d", "avg_pool2d",
                                  "max_pool2d_backward"}),
}

#: Kinds of flags, with what each means.
KINDS = {
    "monkeypatch": "changes NumPy, SciPy, course, the built-ins or the profiler the tests use",
    "test-helper": "replaces or deletes a name the tests use",
    "kill": "exits or kills the kernel, starts processes, signals, ctypes",
    "file-access": "reads or writes grading files (tests, gradebook, other students)",
    "kernel": "reaches into the grading kernel, the guard or the interpreter's frames",
    "shell": "runs a shell command",
    "by-hand-scipy": "a by-hand function reaches SciPy or numpy.pad/convolve/correlate",
    "locked-edited": "a locked (read-only) cell was edited",
    "locked-deleted": "a locked (read-only) cell was deleted",
    "runtime": "reported by the grading kernel's guard while the notebook ran",
    "oversized": "a cell too large to review (only its start was scanned and shown)",
}

MARKER = "[integrity]"
_SHELL = "<the IPython shell>"

_GUARDED_ROOTS = frozenset({"numpy", "scipy", "course", "builtins", "contextlib", "math",
                            "autograder", "sys", "os", "posix", "signal", "_signal",
                            "importlib", "functools", "operator"})
_CORE_HELPERS = frozenset({"assert_image_close", "by_hand", "ByHandError", "border_width"})
_FORBIDDEN_NUMPY = frozenset({"pad", "convolve", "correlate", "correlate2"})
_KILL_CALLS = {
    "os._exit": "calls os._exit, which kills the kernel",
    "os.abort": "calls os.abort, which kills the kernel",
    "os.kill": "calls os.kill",
    "os.killpg": "calls os.killpg",
    "posix._exit": "calls posix._exit, which kills the kernel",
    "posix.kill": "calls posix.kill",
    "sys.exit": "calls sys.exit",
    "builtins.exit": "calls exit(), which shuts the kernel down",
    "builtins.quit": "calls quit(), which shuts the kernel down",
    "_thread.interrupt_main": "interrupts the kernel's main thread",
    "os.system": "runs a shell command with os.system",
    "os.popen": "runs a shell command with os.popen",
    "os.fork": "forks the kernel process",
    "os.forkpty": "forks the kernel process",
    "pty.spawn": "spawns a process",
}
_KILL_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn", "signal.", "_signal.", "subprocess.",
                  "ctypes.")
_KILL_MODULES = frozenset({"ctypes", "subprocess", "signal", "_signal", "pty", "posix",
                           "_posixsubprocess", "_ctypes"})
_FILE_CALLS = frozenset({
    "builtins.open", "io.open", "os.open", "codecs.open", "os.listdir", "os.scandir", "os.walk",
    "os.stat", "os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.chdir",
    "os.symlink", "os.link", "glob.glob", "glob.iglob", "sqlite3.connect", "nbformat.read",
    "nbformat.reads", "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile",
    "numpy.memmap", "pathlib.Path", "pathlib.PurePath", "linecache.getlines",
    "linecache.getline", "runpy.run_path", "imp.load_source", "tokenize.open",
})
_FILE_PREFIXES = ("os.path.", "shutil.", "pandas.read_", "json.load", "pickle.load",
                  "zipfile.", "tarfile.", "fileinput.")
def _string_method(call: ast.Call) -> bool:
    """Whether ``call`` (``x.<method>(...)``, a method of :data:`_PATH_METHODS`) is a method
    of a string, not of a path: a literal or f-string receiver, or ``replace`` with two
    arguments (``str.replace(old, new)``; ``Path.replace(target)`` takes one)."""
    receiver = call.func.value
    if isinstance(receiver, ast.JoinedStr) or (
            isinstance(receiver, ast.Constant) and isinstance(receiver.value, str | bytes)):
        return True
    return call.func.attr == "replace" and len(call.args) + len(call.keywords) >= 2


_PATH_METHODS = frozenset({"read_text", "read_bytes", "open", "iterdir", "glob", "rglob",
                           "write_text", "write_bytes", "unlink", "rename", "replace",
                           "rmdir", "exists", "is_file", "is_dir", "stat", "resolve",
                           "joinpath", "absolute"})
_SECRET_COMPONENTS = frozenset({"source", "submitted", "autograded", "feedback", "nbgrader",
                                "..", "gradebook.db", "release", "workspace", "tests",
                                "nbgrader_config.py", "autograder", ".git"})
_KERNEL_ATTRS = frozenset({
    "events", "extension_manager", "user_ns", "user_global_ns", "user_module", "user_ns_hidden",
    "ast_transformers", "input_transformers_post", "input_transformers_cleanup",
    "input_transformer_manager", "run_cell", "run_cell_async", "run_code", "run_ast_nodes",
    "ask_exit", "exiter", "kernel", "set_custom_exc", "set_hook", "compile", "history_manager",
    "magics_manager", "register_magic_function", "reset", "del_var", "builtin_trap",
    "display_trap", "system", "system_piped", "system_raw", "getoutput", "displayhook",
    "showtraceback", "_showtraceback", "payload_manager", "push", "drop_by_id",
    "config", "configurables", "ex", "ev", "run_cell_magic", "run_line_magic", "magic"})
_HARMLESS_MAGICS = frozenset({"matplotlib", "time", "timeit", "prun", "precision", "pprint",
                              "who", "whos", "history", "lsmagic", "magic", "page", "pdef",
                              "pdoc", "pinfo", "pinfo2", "psearch", "debug", "pdb", "tb",
                              "xmode", "autoreload", "aimport", "capture", "config_inline",
                              "recall", "rerun", "doctest_mode", "automagic", "autocall",
                              "colors", "notebook", "load_ext_autoreload", "markdown",
                              "latex", "html", "HTML", "svg", "javascript", "js", "md",
                              "ls", "pwd", "env", "conda", "pip", "mamba", "who_ls",
                              "cd", "dhist", "dirs", "bookmark", "memit", "mprun"})
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_SHELL_MAGICS = frozenset({"bash", "sh", "script", "system", "sx", "perl", "ruby", "zsh",
                           "python", "python2", "python3", "pypy", "sc"})
_FILE_MAGICS = frozenset({"run", "load", "pycat", "less", "more", "writefile", "file",
                          "edit", "save", "loadpy", "cat", "cp", "mv", "rm", "mkdir", "rmdir",
                          "cd", "ls", "bookmark", "store"})
_KERNEL_MAGICS = frozenset({"reset", "reset_selective", "xdel", "load_ext", "unload_ext",
                            "reload_ext", "config", "alias_magic", "alias", "unalias",
                            "killbgscripts", "autoawait", "gui"})


@dataclass(frozen=True)
class Flag:
    """One finding: where (cell index, grade id, line) and what (kind, one-line message)."""

    cell_index: int
    grade_id: str | None
    line: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------- notebooks
def _load(nb) -> nbformat.NotebookNode:
    if isinstance(nb, (str, Path)):
        return nbformat.read(str(nb), as_version=4)
    if isinstance(nb, nbformat.NotebookNode):
        return nb
    return nbformat.from_dict(copy.deepcopy(nb))


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _where(index: int, grade_id: str | None, line: int | None) -> str:
    where = f"cell {index}" + (f" ({grade_id})" if grade_id else "")
    return where + (f", line {line}" if line else "")


def _norm(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").strip().split("\n"))


# ---------------------------------------------------------------- IPython syntax
_MAGIC = re.compile(r"^(?P<indent>\s*)(?P<sigil>%%|%|!!|!)(?P<rest>.*)$")
_ASSIGN_MAGIC = re.compile(r"^(?P<lhs>\s*[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=)\s*"
                           r"(?P<sigil>%|!)(?P<rest>.*)$")
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")


def _magic_code(rest: str) -> str | None:
    """The Python code after a %time/%timeit line magic's options, if any parses."""
    words = rest.split()[1:]
    for start in range(len(words)):
        code = " ".join(words[start:])
        if not words[start].startswith("-"):
            try:
                ast.parse(code)
            except SyntaxError:
                continue
            return code
    return None


def _to_python(source: str) -> tuple[str, list[tuple[int, str, str, str]]]:
    """Cell source with IPython syntax blanked out (same line numbers), and the magics.

    Magics are ``(line, sigil, name, argument)``; the Python body of ``%%time`` and the
    statement of ``%time stmt`` are kept as Python.
    """
    lines = source.replace("\r\n", "\n").split("\n")
    magics: list[tuple[int, str, str, str]] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    start = 0
    if first is not None and lines[first].lstrip().startswith("%%"):
        head = lines[first].lstrip()[2:]
        name, _, arg = head.partition(" ")
        magics.append((first + 1, "%%", name, arg.strip()))
        if name not in _PYTHON_CELL_MAGICS:
            if name in _SHELL_MAGICS:
                for i, line in enumerate(lines[first + 1:], first + 2):
                    if line.strip():
                        magics.append((i, "!", line.strip().split()[0], line.strip()))
            return "", magics
        lines[first] = ""
        start = first + 1
    out = lines[:start]
    for number, line in enumerate(lines[start:], start + 1):
        m = _MAGIC.match(line)
        if m and not line.lstrip().startswith("%%"):
            sigil = m["sigil"]
            rest = m["rest"]
            if sigil.startswith("!"):
                magics.append((number, "!", rest.strip().split()[0] if rest.strip() else "",
                               rest.strip()))
                out.append(m["indent"] + "pass")
                continue
            name = rest.split()[0] if rest.split() else ""
            magics.append((number, "%", name, rest[len(name):].strip()))
            code = _magic_code(rest) if name in _PYTHON_CELL_MAGICS else None
            out.append(m["indent"] + (code if code else "pass"))
            continue
        m = _ASSIGN_MAGIC.match(line)
        if m:
            rest = m["rest"].strip()
            if m["sigil"] == "!":
                magics.append((number, "!", rest.split()[0] if rest else "", rest))
            else:
                name = rest.split()[0] if rest else ""
                magics.append((number, "%", name, rest[len(name):].strip()))
            out.append(m["lhs"] + " None")
            continue
        if _HELP.match(line):
            out.append(line[: len(line) - len(line.lstrip())] + "pass")
            continue
        out.append(line)
    return "\n".join(out), magics


def _parse(source: str) -> ast.Module | None:
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        return compile(source, "<cell>", "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError):
        return None


def _parse_cell(source: str) -> tuple[ast.Module | None, list[tuple[int, str, str, str]]]:
    python, magics = _to_python(source)
    tree = _parse(python)
    if tree is None:
        try:  # IPython's own transformer, for syntax our line rules do not know
            from IPython.core.inputtransformer2 import TransformerManager

            tree = _parse(TransformerManager().transform_cell(source))
        except Exception:
            tree = None
    return tree, magics


# ---------------------------------------------------------------- the notebook's names
@dataclass
class _Cell:
    index: int
    grade_id: str | None
    source: str
    tree: ast.Module | None
    magics: list
    student: bool


def _module_level(tree: ast.Module) -> Iterator[ast.AST]:
    """Statements at module level, inside if/try/with/for blocks too, not in functions."""
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                stack.extend(reversed([c for c in children if isinstance(c, ast.AST)]))
        if isinstance(node, ast.Match):
            for case in node.cases:
                stack.extend(reversed(case.body))


def _import_bindings(node) -> Iterator[tuple[str, str]]:
    """(bound name, dotted target) of an import statement."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:
                top = alias.name.partition(".")[0]
                yield top, top
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for alias in node.names:
            if alias.name != "*":
                yield alias.asname or alias.name, f"{node.module}.{alias.name}"


def _stored_names(target) -> Iterator[ast.Name]:
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _stored_names(elt)
    elif isinstance(target, ast.Starred):
        yield from _stored_names(target.value)


def _strings(node) -> list[str]:
    """String constants in an expression (f-string parts included)."""
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, (str, bytes)):
            value = sub.value
            out.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
    return out


def _secret_reason(text: str) -> str | None:
    if text.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", text):
        return f"the path {text!r}"
    for part in re.split(r"[\\/]+", text):
        low = part.lower()
        if low in _SECRET_COMPONENTS or low.startswith("gradebook") or low.endswith(
                (".db", ".sqlite", ".sqlite3")):
            return f"the path {text!r}"
    return None


class _Notebook:
    """Names bound anywhere in the notebook: imports, aliases, functions, strings."""

    def __init__(self, cells: list[_Cell]):
        self.cells = cells
        self.aliases: dict[str, set[str]] = {}
        self.defs: dict[str, tuple[_Cell, ast.AST]] = {}
        self.bound: set[str] = set()
        self.strings: dict[str, list[str]] = {}
        self.stars: list[str] = []
        for cell in cells:
            if cell.tree is None:
                continue
            for node in _module_level(cell.tree):
                for name, target in _import_bindings(node):
                    self.aliases.setdefault(name, set()).add(target)
                    self.bound.add(name)
                if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                    self.stars.append(node.module or "")
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.defs[node.name] = (cell, node)
                    self.bound.add(node.name)
                for target in _targets(node):
                    for name in _stored_names(target):
                        self.bound.add(name.id)
                        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                            self.defs[name.id] = (cell, node.value)
                        if isinstance(node, ast.Assign):
                            found = _strings(node.value)
                            if found:
                                self.strings.setdefault(name.id, []).extend(found)
        for _ in range(2):  # simple aliases: x = np.testing, f = ndi.correlate
            for cell in cells:
                if cell.tree is None:
                    continue
                for node in _module_level(cell.tree):
                    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                            node.targets[0], ast.Name) and isinstance(node.value, (
                            ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
                        targets = self.resolve(node.value, ())
                        if targets:
                            self.aliases.setdefault(node.targets[0].id, set()).update(targets)

    def resolve(self, node, scopes) -> set[str]:
        """Dotted names an expression may stand for (empty if unknown)."""
        if isinstance(node, ast.Name):
            for scope in reversed(scopes):
                if node.id in scope.aliases:
                    return set(scope.aliases[node.id])
                if node.id in scope.locals:
                    return set()
            if node.id in self.aliases:
                return set(self.aliases[node.id])
            if node.id in ("scipy", "numpy"):
                return {node.id}
            if node.id == "__builtins__":
                return {"builtins"}
            if node.id == "get_ipython" and node.id not in self.defs:
                return {"IPython.get_ipython"}
            if node.id in self.defs or node.id in self.bound:
                return set()
            if hasattr(builtins, node.id):
                return {f"builtins.{node.id}"}
            star = self._star(node.id)
            return {star} if star else set()
        if isinstance(node, ast.Attribute):
            return {f"{p}.{node.attr}" for p in self.resolve(node.value, scopes)}
        if isinstance(node, ast.Call):
            funcs = self.resolve(node.func, scopes)
            args = node.args
            if "builtins.getattr" in funcs and len(args) >= 2 and isinstance(
                    args[1], ast.Constant) and isinstance(args[1].value, str):
                return {f"{p}.{args[1].value}" for p in self.resolve(args[0], scopes)}
            if funcs & {"importlib.import_module", "builtins.__import__"} and args and isinstance(
                    args[0], ast.Constant) and isinstance(args[0].value, str):
                return {args[0].value}
            if "builtins.vars" in funcs and args:
                return {f"{p}.__dict__" for p in self.resolve(args[0], scopes)}
            if funcs & {"IPython.get_ipython", "builtins.get_ipython"}:
                return {_SHELL}
            return set()
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(
                node.slice.value, str):
            if "sys.modules" in self.resolve(node.value, scopes):
                return {node.slice.value}
            return {f"{p}.{node.slice.value}" for p in self.resolve(node.value, scopes)
                    if p.endswith(".__dict__")}
        return set()

    def _star(self, name: str) -> str | None:
        for module in self.stars:
            if module.partition(".")[0] not in ("numpy", "scipy"):
                continue
            try:
                import importlib

                mod = importlib.import_module(module)
            except Exception:
                continue
            exported = getattr(mod, "__all__", None) or [
                n for n in dir(mod) if not n.startswith("_")]
            if name in exported:
                return f"{module}.{name}"
        return None


def _targets(node) -> list:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    return []


@dataclass
class _Scope:
    locals: set[str]
    aliases: dict[str, set[str]]
    globals_: set[str]


def _function_scope(node, notebook: _Notebook, outer) -> _Scope:
    args = node.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    if args.vararg:
        names.add(args.vararg.arg)
    if args.kwarg:
        names.add(args.kwarg.arg)
    declared: set[str] = set()
    aliases: dict[str, set[str]] = {}
    body = node.body if isinstance(node.body, list) else [node.body]
    stack = list(body)
    while stack:
        sub = stack.pop()
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared.update(sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
            continue
        elif isinstance(sub, ast.Lambda):
            continue
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            for name, target in _import_bindings(sub):
                aliases.setdefault(name, set()).add(target)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            names.add(sub.name)
        stack.extend(ast.iter_child_nodes(sub))
    scope = _Scope(names - declared, {}, declared)
    for name, targets in aliases.items():
        if name not in declared:
            scope.aliases[name] = targets
    # simple aliases inside the function: s = scipy.ndimage
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(
                sub.targets[0], ast.Name) and sub.targets[0].id in scope.locals:
            targets = notebook.resolve(sub.value, [*outer, scope])
            if targets:
                scope.aliases.setdefault(sub.targets[0].id, set()).update(targets)
    return scope


# ---------------------------------------------------------------- checks
class _Checker(ast.NodeVisitor):
    """Walks one student cell; appends flags."""

    def __init__(self, cell: _Cell, notebook: _Notebook, helpers: dict[str, set[str]],
                 by_hand: frozenset[str], flags: list[Flag]):
        self.cell, self.nb, self.helpers, self.by_hand = cell, notebook, helpers, by_hand
        self.flags = flags
        self.scopes: list[_Scope] = []

    def flag(self, node, kind: str, what: str) -> None:
        line = getattr(node, "lineno", None)
        self.flags.append(Flag(self.cell.index, self.cell.grade_id, line, kind,
                               f"{_where(self.cell.index, self.cell.grade_id, line)}: {what}"))

    def resolve(self, node) -> set[str]:
        return self.nb.resolve(node, self.scopes)

    # scopes
    def _shadows_builtin(self, node, name: str) -> None:
        if name in _CRITICAL_BUILTINS and self._module_binding(name):
            self.flag(node, "test-helper", f"replaces the built-in `{name}` (the grading "
                      "kernel keeps the real one for the tests)")

    def visit_FunctionDef(self, node):
        self._binding(node, node.name, None)
        self._shadows_builtin(node, node.name)
        for deco in node.decorator_list:
            self.visit(deco)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(default)
        self.scopes.append(_function_scope(node, self.nb, self.scopes))
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.scopes.append(_function_scope(node, self.nb, self.scopes))
        self.visit(node.body)
        self.scopes.pop()

    def visit_ClassDef(self, node):
        self._binding(node, node.name, None)
        self._shadows_builtin(node, node.name)
        self.generic_visit(node)

    # bindings of names the tests use
    def _module_binding(self, name: str) -> bool:
        if not self.scopes:
            return True
        return name in self.scopes[-1].globals_

    def _binding(self, node, name: str, value_targets: set[str] | None) -> None:
        if not self._module_binding(name):
            return
        if name in self.helpers:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not self.helpers[name]:
                pass  # their own version of a function a read-only cell defines (notebook 03's
                # conv2d with padding= in 05): the judge runs the tests with the read-only one
                # and the student's functions with theirs (issue 14.5); not tampering
            elif not (value_targets and value_targets <= self.helpers[name]):
                self.flag(node, "test-helper",
                          f"rebinds `{name}`, which the tests use (tests run with the original)")
        if name in self.by_hand and value_targets and any(
                _forbidden(t) for t in value_targets):
            target = sorted(t for t in value_targets if _forbidden(t))[0]
            self.flag(node, "by-hand-scipy",
                      f"binds the by-hand function name `{name}` to {target}")

    def visit_Import(self, node):
        self._imports(node)

    def visit_ImportFrom(self, node):
        self._imports(node)

    def _imports(self, node):
        for name, target in _import_bindings(node):
            self._binding(node, name, {target})
            root = target.partition(".")[0]
            if root in _KILL_MODULES and not (root == "signal" and target.startswith("scipy")):
                self.flag(node, "kill", f"imports {target}")
            elif root == "autograder":
                self.flag(node, "kernel", f"imports {target}, the grader's own code")
            elif root == "importlib" and target.endswith("reload"):
                self.flag(node, "monkeypatch", "imports importlib.reload (reloading modules "
                          "the tests use)")

    def visit_Assign(self, node):
        for target in node.targets:
            self._assign_target(node, target, node.value)
        self.visit(node.value)
        for target in node.targets:
            self._visit_target(target)

    def visit_AugAssign(self, node):
        self._assign_target(node, node.target, None)
        self.visit(node.value)
        self._visit_target(node.target)

    def visit_AnnAssign(self, node):
        self._assign_target(node, node.target, node.value)
        if node.value is not None:
            self.visit(node.value)
        self._visit_target(node.target)

    def visit_NamedExpr(self, node):
        self._assign_target(node, node.target, node.value)
        self.visit(node.value)

    def visit_For(self, node):
        self._assign_target(node, node.target, None)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                self._assign_target(node, item.optional_vars, None)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def _visit_target(self, target):
        # the expressions inside a target (a[i].x = ...) may hold calls
        for sub in ast.iter_child_nodes(target):
            if not isinstance(sub, ast.expr_context):
                self.visit(sub)

    def _assign_target(self, node, target, value) -> None:
        for name in _stored_names(target):
            targets = None
            if value is not None and isinstance(target, ast.Name):
                targets = self.resolve(value)
            if name.id in self.by_hand and value is not None and self._module_binding(name.id) \
                    and not (targets and any(_forbidden(t) for t in targets)):
                reach = self._reaches(value, set())
                if reach:
                    self.flag(node, "by-hand-scipy",
                              f"defines the by-hand function `{name.id}` with {reach[1]}")
            self._binding(node, name.id, targets)
            if isinstance(value, ast.Lambda):
                self._shadows_builtin(node, name.id)
        if isinstance(target, ast.Attribute):
            owners = self.resolve(target.value)
            guarded = sorted(o for o in owners if o.partition(".")[0] in _GUARDED_ROOTS)
            if guarded:
                self.flag(node, "monkeypatch", f"assigns {guarded[0]}.{target.attr}")
        elif isinstance(target, ast.Subscript):
            self._subscript_store(node, target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                if isinstance(elt, (ast.Attribute, ast.Subscript)):
                    self._assign_target(node, elt, None)

    def _subscript_store(self, node, target, verb: str = "writes to") -> None:
        owners = self.resolve(target.value)
        if "sys.modules" in owners:
            self.flag(node, "monkeypatch", f"{verb} sys.modules (replacing a module the tests "
                      "import)")
        elif any(o.endswith(".__dict__") and o.partition(".")[0] in _GUARDED_ROOTS for o in owners):
            owner = sorted(o for o in owners if o.endswith(".__dict__"))[0]
            self.flag(node, "monkeypatch", f"{verb} {owner}")
        elif isinstance(target.value, ast.Call) and self.resolve(target.value.func) & {
                "builtins.globals", "builtins.locals"}:
            self.flag(node, "test-helper", f"{verb} globals() directly")

    def visit_Delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                owners = self.resolve(target.value)
                guarded = sorted(o for o in owners if o.partition(".")[0] in _GUARDED_ROOTS)
                if guarded:
                    self.flag(node, "monkeypatch", f"deletes {guarded[0]}.{target.attr}")
            elif isinstance(target, ast.Subscript):
                self._subscript_store(node, target, "deletes from")
            elif isinstance(target, ast.Name) and target.id in self.helpers and \
                    self._module_binding(target.id):
                self.flag(node, "test-helper", f"deletes `{target.id}`, which the tests use")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "__builtins__":
            self.flag(node, "monkeypatch", "uses __builtins__")

    def visit_Attribute(self, node):
        if node.attr in ("f_back", "f_globals", "f_locals", "tb_frame", "gi_frame",
                         "__closure__", "__globals__", "cr_frame"):
            self.flag(node, "kernel", f"reads .{node.attr} (reaching into other code's "
                      "variables)")
        elif node.attr in ("__code__", "__defaults__", "__kwdefaults__") and any(
                o.partition(".")[0] in _GUARDED_ROOTS for o in self.resolve(node.value)):
            self.flag(node, "monkeypatch", f"reads .{node.attr} of a library function")
        if node.attr in _KERNEL_ATTRS and _SHELL in self.resolve(node.value):
            if not (node.attr == "run_line_magic" and isinstance(
                    getattr(self, "_call", None), ast.Call) and self._harmless_magic_call()):
                self.flag(node, "kernel", f"uses get_ipython().{node.attr}")
        self.generic_visit(node)

    def _harmless_magic_call(self) -> bool:
        call = self._call
        return bool(call.args) and isinstance(call.args[0], ast.Constant) and \
            call.args[0].value in _HARMLESS_MAGICS

    def visit_Call(self, node):
        self._call = node
        funcs = self.resolve(node.func)
        args = node.args
        for func in sorted(funcs):
            if func in ("builtins.setattr", "builtins.delattr", "object.__setattr__",
                        "builtins.object.__setattr__", "builtins.type.__setattr__",
                        "types.ModuleType.__setattr__", "builtins.object.__delattr__"):
                owners = self.resolve(args[0]) if args else set()
                guarded = sorted(o for o in owners if o.partition(".")[0] in _GUARDED_ROOTS)
                if guarded:
                    self.flag(node, "monkeypatch", f"calls {func.rpartition('.')[2]} on "
                              f"{guarded[0]}")
                elif args and isinstance(args[0], ast.Call) and self.resolve(args[0].func) & {
                        "builtins.globals"}:
                    self.flag(node, "test-helper", "sets a global through globals()")
            elif func in ("importlib.reload", "imp.reload"):
                self.flag(node, "monkeypatch", "reloads a module with importlib.reload")
            elif func in ("sys.setprofile", "sys.settrace", "threading.setprofile",
                          "threading.settrace", "sys.addaudithook"):
                self.flag(node, "monkeypatch", f"calls {func} (the by-hand check relies on "
                          "the profiler)")
            elif func in _KILL_CALLS:
                self.flag(node, "kill", _KILL_CALLS[func])
            elif func.startswith(_KILL_PREFIXES) and not func.startswith("scipy"):
                self.flag(node, "kill", f"calls {func}")
            elif func in ("builtins.exec", "builtins.eval", "builtins.compile"):
                self.flag(node, "kernel", f"runs code from a string with {func[9:]}(), "
                          "which this scan cannot read")
            elif func in ("sys._getframe", "inspect.currentframe", "inspect.stack",
                          "inspect.getouterframes", "gc.get_objects", "gc.get_referrers",
                          "gc.get_referents", "sys._current_frames"):
                self.flag(node, "kernel", f"calls {func}")
            elif func.endswith((".update", ".pop", ".setdefault", ".__setitem__", ".clear",
                                ".__delitem__", ".popitem")) and isinstance(
                    node.func, ast.Attribute):
                owners = self.resolve(node.func.value)
                if "sys.modules" in owners or any(
                        o.endswith(".__dict__") and o.partition(".")[0] in _GUARDED_ROOTS
                        for o in owners):
                    self.flag(node, "monkeypatch", f"changes {sorted(owners)[0]} with "
                              f".{node.func.attr}()")
            if (func in _FILE_CALLS or func.startswith(_FILE_PREFIXES)):
                self._file_access(node, func)
        if isinstance(node.func, ast.Attribute):
            if node.func.attr in _PATH_METHODS and not funcs and not _string_method(node):
                self._file_access(node, f".{node.func.attr}()")
            if node.func.attr in ("update", "__setitem__", "setdefault") and isinstance(
                    node.func.value, ast.Call) and self.resolve(node.func.value.func) & {
                    "builtins.globals"}:
                self.flag(node, "test-helper", "writes to globals() directly")
        self.generic_visit(node)
        self._call = None

    def _file_access(self, node, func: str) -> None:
        texts = _strings(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.nb.strings:
                texts.extend(self.nb.strings[sub.id])
            if isinstance(sub, ast.Attribute) and sub.attr in ("__file__", "__path__"):
                self.flag(node, "file-access",
                          f"{func.lstrip('.').replace('builtins.', '')} uses the location of a "
                          "module on disk (the course and grading files live there)")
                return
        for text in texts:
            reason = _secret_reason(text)
            if reason:
                name = func.replace("builtins.", "").lstrip(".")
                self.flag(node, "file-access", f"{name} reaches {reason}")
                return

    # by-hand functions
    def _reaches(self, node, seen: set[str]) -> tuple[int, str] | None:
        """(line, what) of the first SciPy or numpy.pad/... reference in a function."""
        scopes = list(self.scopes)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            scopes.append(_function_scope(node, self.nb, self.scopes))
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Import, ast.ImportFrom)):
                for _, target in _import_bindings(sub):
                    if _forbidden(target):
                        return sub.lineno, f"an import of {target}"
            if isinstance(sub, (ast.Name, ast.Attribute)) and isinstance(
                    getattr(sub, "ctx", None), ast.Load):
                if isinstance(sub, ast.Name) and sub.id in self.by_hand:
                    continue
                targets = self.nb.resolve(sub, scopes)
                bad = sorted(t for t in targets if _forbidden(t))
                if bad:
                    return sub.lineno, _describe(bad[0], sub)
                if isinstance(sub, ast.Name) and sub.id in self.nb.defs and sub.id not in seen \
                        and not any(sub.id in s.locals or sub.id in s.aliases for s in scopes):
                    cell, helper = self.nb.defs[sub.id]
                    inner = self._reaches_helper(helper, seen | {sub.id})
                    if inner:
                        return sub.lineno, f"a call of `{sub.id}`, which uses {inner}"
            if isinstance(sub, ast.Call):
                targets = self.nb.resolve(sub, scopes)
                bad = sorted(t for t in targets if _forbidden(t))
                if bad:
                    return sub.lineno, _describe(bad[0], sub)
        return None

    def _reaches_helper(self, helper, seen: set[str]) -> str | None:
        if isinstance(helper, ast.ClassDef):
            return None
        saved = self.scopes
        self.scopes = []
        try:
            found = self._reaches(helper, seen)
        finally:
            self.scopes = saved
        if not found:
            return None
        return found[1].removeprefix("a call of ").removeprefix("an import of ")


def _describe(target: str, node) -> str:
    shown = ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute)) else target
    return target if shown == target else f"{target} (as `{shown}`)"


def _forbidden(target: str) -> bool:
    parts = target.split(".")
    if parts[0] == "scipy":
        return True
    return parts[0] == "numpy" and parts[-1] in _FORBIDDEN_NUMPY


_CRITICAL_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "callable", "enumerate", "float", "getattr", "hasattr", "int",
    "isinstance", "issubclass", "iter", "len", "max", "min", "next", "range", "repr", "round",
    "sorted", "str", "sum", "tuple", "type", "zip", "AssertionError", "Exception", "print",
    "ValueError", "TypeError", "list", "dict", "set", "map", "filter", "reversed"})


def _check_magics(cell: _Cell, flags: list[Flag]) -> None:
    for line, sigil, name, arg in cell.magics:
        where = _where(cell.index, cell.grade_id, line)
        text = arg if sigil == "!" else f"{name} {arg}".strip()
        if sigil == "!" or (sigil in ("%", "%%") and name in _SHELL_MAGICS):
            flags.append(Flag(cell.index, cell.grade_id, line, "shell",
                              f"{where}: runs the shell command `{text[:80]}`"))
            continue
        if name in ("load_ext", "reload_ext") and arg.strip() == "autoreload":
            continue
        if name in _KERNEL_MAGICS:
            kind = "test-helper" if name in ("reset", "reset_selective", "xdel") else "kernel"
            flags.append(Flag(cell.index, cell.grade_id, line, kind,
                              f"{where}: uses the magic %{name}"))
        elif name in _FILE_MAGICS:
            reason = next((r for r in map(_secret_reason, arg.split()) if r), None)
            if reason or name in ("writefile", "file", "run", "load", "loadpy", "cat", "cp", "mv",
                                  "rm", "edit"):
                flags.append(Flag(cell.index, cell.grade_id, line, "file-access",
                                  f"{where}: uses the magic %{name} {arg[:60]}".rstrip()))


def _check_by_hand(cell: _Cell, checker: _Checker, flags: list[Flag]) -> None:
    for node in cell.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name in checker.by_hand:
            found = checker._reaches(node, {node.name})
            if found:
                line, what = found
                flags.append(Flag(cell.index, cell.grade_id, line, "by-hand-scipy",
                                  f"{_where(cell.index, cell.grade_id, line)}: the by-hand "
                                  f"function `{node.name}` uses {what}"))


# ---------------------------------------------------------------- locked cells
def _locked_flags(submission, release) -> list[Flag]:
    flags: list[Flag] = []
    sub_cells = {}
    for index, cell in enumerate(submission.cells):
        gid = _meta(cell).get("grade_id")
        if gid and gid not in sub_cells:
            sub_cells[gid] = (index, cell)
    for cell in release.cells:
        meta = _meta(cell)
        if not meta.get("locked") or not meta.get("grade_id"):
            continue
        gid = meta["grade_id"]
        kind_name = "test cell" if meta.get("grade") else "read-only cell"
        if gid not in sub_cells:
            flags.append(Flag(-1, gid, None, "locked-deleted",
                              f"the locked {kind_name} {gid} was deleted (or its nbgrader "
                              "metadata removed)"))
            continue
        index, sub = sub_cells[gid]
        ours, theirs = _norm(_source(cell)), _norm(_source(sub))
        if ours != theirs or sub.get("cell_type") != cell.get("cell_type"):
            a, b = ours.split("\n"), theirs.split("\n")
            line = next((i for i, (x, y) in enumerate(zip(a, b, strict=False), 1) if x != y),
                        min(len(a), len(b)) + 1)
            flags.append(Flag(index, gid, line, "locked-edited",
                              f"{_where(index, gid, line)}: the locked {kind_name} was edited "
                              "(nbgrader grades the original)"))
    return flags


# ---------------------------------------------------------------- public API
def _guess_assignment(nb, path) -> str | None:
    if isinstance(path, (str, Path)):
        for part in reversed(Path(path).parts):
            name = part.removesuffix(".ipynb")
            if name in BY_HAND or re.match(r"^\d\d_[a-z0-9_]+$", name):
                return name
    solution_ids = {_meta(c).get("grade_id") for c in nb.cells if _meta(c).get("solution")}
    for name, functions in BY_HAND.items():
        if functions <= solution_ids:
            return name
    return None


def _helpers(cells: list[_Cell], notebook: _Notebook) -> dict[str, set[str]]:
    """Names the tests use, bound by locked cells, with what they are bound to."""
    helpers: dict[str, set[str]] = {name: set() for name in _CORE_HELPERS}
    for cell in cells:
        if cell.student or cell.tree is None:
            continue
        for node in _module_level(cell.tree):
            for name, target in _import_bindings(node):
                if not name.startswith("_"):
                    helpers.setdefault(name, set()).add(target)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not node.name.startswith("_"):
                    helpers.setdefault(node.name, set())
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                    node.targets[0], ast.Name) and not node.targets[0].id.startswith("_"):
                targets = notebook.resolve(node.value, ())
                if targets:
                    helpers.setdefault(node.targets[0].id, set()).update(targets)
    for name in ("assert_image_close", "by_hand", "ByHandError", "border_width"):
        helpers[name] |= {f"course.checks.{name}"}
    return helpers


def scan(submission_nb, release_nb=None, assignment: str | None = None) -> list[Flag]:
    """Flag tampering in a submitted notebook (see the module docstring).

    Parameters
    ----------
    submission_nb : path or notebook
        The student's notebook.
    release_nb : path or notebook or False, optional
        The release notebook, to compare locked cells and to recognise cells the student
        left as released. Default: ``release/<assignment>/<assignment>.ipynb`` if it exists;
        ``False``: no comparison.
    assignment : str, optional
        Its name, for the list of by-hand functions (:data:`BY_HAND`); guessed from the
        path or the solution cells' grade ids when not given.
    """
    submission = _load(submission_nb)
    assignment = assignment or _guess_assignment(submission, submission_nb)
    if release_nb is None and assignment:
        from autograder.paths import release_notebook

        path = release_notebook(assignment)
        release_nb = path if path.exists() else None
    release = _load(release_nb) if release_nb not in (None, False) else None
    released_sources = set()
    if release is not None:
        released_sources = {_norm(_source(c)) for c in release.cells if c.get("cell_type") == "code"
                            and not _meta(c).get("solution")}

    cells: list[_Cell] = []
    for index, cell in enumerate(submission.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = _meta(cell)
        source = _source(cell)
        locked = bool(meta.get("locked"))
        student = not locked and (meta.get("solution") or not meta.get("grade"))
        if student and not meta.get("solution") and _norm(source) in released_sources:
            student = False  # the instructor's own cell, left as released
        tree, magics = _parse_cell(source)
        cells.append(_Cell(index, meta.get("grade_id"), source, tree, magics, bool(student)))
    if release is not None:  # locked cells as released (the ones nbgrader will run)
        for cell in release.cells:
            if cell.get("cell_type") == "code" and _meta(cell).get("locked"):
                tree, magics = _parse_cell(_source(cell))
                cells.append(_Cell(-1, _meta(cell).get("grade_id"), _source(cell), tree,
                                   magics, False))

    notebook = _Notebook([c for c in cells])
    helpers = _helpers(cells, notebook)
    by_hand = BY_HAND.get(assignment or "", frozenset())
    flags: list[Flag] = []
    for cell in cells:
        if not cell.student:
            continue
        _check_magics(cell, flags)
        if cell.tree is None:
            continue
        checker = _Checker(cell, notebook, helpers, by_hand, flags)
        checker.visit(cell.tree)
        _check_by_hand(cell, checker, flags)
    if release is not None:
        flags.extend(_locked_flags(submission, release))
    unique = list(dict.fromkeys(flags))
    return sorted(unique, key=lambda f: (f.cell_index, f.line or 0, f.kind, f.message))


def runtime_flags(autograded_nb) -> list[Flag]:
    """The guard's ``[integrity]`` reports in an executed notebook's outputs, one per line."""
    nb = _load(autograded_nb)
    flags: list[Flag] = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = _meta(cell).get("grade_id")
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                if line.startswith(MARKER):
                    message = line[len(MARKER):].strip()
                    stream = output.get("name", "")
                    note = " (the test cell got no points)" if (
                        stream == "stderr" and _meta(cell).get("grade")) else ""
                    flags.append(Flag(index, gid, None, "runtime",
                                      f"{_where(index, gid, None)}: {message}{note}"))
    return list(dict.fromkeys(flags))


def flags_column(flags: Iterable[Flag], limit: int = 500) -> str:
    """One CSV cell: ``kind: message`` joined by `` | ``, cut at ``limit`` characters."""
    text = " | ".join(f"{f.kind}: {f.message}" for f in flags)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(flags_by_submission: dict[tuple[str, str], list[Flag]]) -> list[str]:
    """Markdown lines for a report: one bullet per flagged submission, counts per kind."""
    lines: list[str] = []
    flagged = {k: v for k, v in sorted(flags_by_submission.items()) if v}
    if not flagged:
        return ["No integrity flags."]
    counts: dict[str, int] = {}
    for flags in flagged.values():
        for f in flags:
            counts[f.kind] = counts.get(f.kind, 0) + 1
    lines.append(f"{len(flagged)} of {len(flags_by_submission)} submissions flagged: "
                 + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + ".")
    for (student, assignment), flags in flagged.items():
        lines.append(f"- {student} / {assignment}:")
        lines.extend(f"  - {f.kind}: {f.message}" for f in flags)
    return lines
