"""The judge: test cells run in the grader's process, never in the student's kernel.

:class:`JudgeExecute` is the sandbox's Execute preprocessor (``autograder.sandbox``) with
one change: a cell that :mod:`autograder.cells` calls a test cell, and whose source is the
instructor's (it equals the gradebook's source cell of that grade id), is not sent to the
kernel. It runs here, in a fresh namespace:

* the trusted cells above it (locked cells that are not tests: setup, references, data,
  also checked against the gradebook) are run here once per notebook, so ``np``,
  ``assert_image_close``, ``scipy_conv2d`` or ``forward`` are the instructor's, whatever
  the student rebound in the kernel;
* every other name the cell loads and does not bind (see :func:`free_names`) is fetched
  from the kernel: a callable becomes a :class:`Proxy` (a call is a request to
  :mod:`autograder.agent` in the kernel; arguments and results are plain data), anything
  else is fetched as plain data (arrays, numbers, strings, tuples/lists/dicts of those);
* :data:`course.checks.JUDGE` is set while the cell runs, so ``by_hand()`` makes the
  calls inside it by-hand calls (run in a forked child of the kernel where SciPy's
  compiled code and ``numpy.pad``/``convolve``/``correlate`` are unavailable) and
  ``speed_ratio()`` is timed in the kernel on fresh inputs and verified here.

The cell's outputs are written here: its stdout (warnings included, as text) and, when it
fails, one ``error`` output (ename, evalue, a one-line traceback), which nbgrader's
autograde scores as 0 as it does for an error raised in the kernel. The hidden test's
source never reaches the kernel, so no ``In``, history, frame or ``globals()`` there
shows it.

:func:`harden_autograde` installs it (sandbox, limits, JudgeExecute) in an nbgrader config;
the course's ``nbgrader_config.py`` calls it, so plain ``nbgrader autograde`` and
formgrader's Autograde button are judged the same way as ``python3 -m autograder``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import os
import select
import socket
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np

from autograder import agent, cells

__all__ = ["JudgeError", "Proxy", "free_names", "harden_autograde", "judge_class"]

#: The expression the kernel evaluates for one request (in ``user_expressions``).
_EXPRESSION = "__import__('autograder.agent').agent.serve({payload!r})"
_BUILTINS = frozenset(dir(builtins))
#: Characters of stdout a judged test cell keeps.
MAX_STDOUT = 20_000


class JudgeError(RuntimeError):
    """The kernel did not answer the judge as it should (died, hung, garbled reply)."""


class RemoteError(Exception):
    """An error raised in the kernel whose type is not a builtin one (named after it)."""


@functools.cache
def _remote_class(name: str, base: str) -> type:
    base_cls = getattr(builtins, base, None)
    if not (isinstance(base_cls, type) and issubclass(base_cls, BaseException)):
        base_cls = Exception
    if issubclass(base_cls, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        base_cls = RuntimeError
    return type(name, (RemoteError, base_cls) if base_cls is not Exception else (RemoteError,),
                {"__module__": "student"})


def rebuild_error(reply: dict) -> BaseException:
    """The exception a reply describes: the builtin type when it is one, else a named one."""
    name, base, message = str(reply.get("error")), str(reply.get("base", "Exception")), \
        str(reply.get("message", ""))
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and name == base:
        return cls(message)
    return _remote_class(name, base)(message)


# --------------------------------------------------------------------------------------
# What a test cell needs from outside it
# --------------------------------------------------------------------------------------

def free_names(tree: ast.AST) -> set[str]:
    """Names ``tree`` loads that it never binds (anywhere), builtins excluded."""
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
    return loaded - bound - _BUILTINS


class Unavailable:
    """A kernel value that is not plain data: any use says so."""

    def __init__(self, name: str, why: str):
        object.__setattr__(self, "_why", f"{name} cannot be used by the tests: it is {why}")

    def _fail(self, *args, **kwargs):
        raise TypeError(object.__getattribute__(self, "_why"))

    __call__ = __getattr__ = __getitem__ = __iter__ = __len__ = __array__ = _fail
    __bool__ = __float__ = __int__ = _fail

    def __repr__(self) -> str:
        return "<unavailable>"


class Proxy:
    """A student's function in the kernel: calling it is one request to the agent."""

    def __init__(self, judge: Judge, name: str):
        self._judge, self.__name__, self.__qualname__ = judge, name, name

    def __call__(self, *args, **kwargs):
        return self._judge.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


# --------------------------------------------------------------------------------------
# The judge of one notebook (what course.checks.JUDGE is while a test cell runs)
# --------------------------------------------------------------------------------------

class Judge:
    """Talks to the agent in the kernel for one notebook run (see :class:`JudgeExecute`)."""

    def __init__(self, executor):
        self.executor = executor
        self._by_hand: list[str] = []  # stack of `what`
        # What the benchmark reports (benchmarks/bench_grading.py --judge): requests, their
        # round trips, the seconds the agent says it spent inside the student's calls, and
        # the grader's own work (trusted cells; test cells, round trips included).
        self.requests = 0
        self.seconds = 0.0
        self.inside = 0.0
        self.trusted_seconds = 0.0
        self.cell_seconds = 0.0

    def stats(self) -> dict:
        return {"requests": self.requests, "seconds": round(self.seconds, 4),
                "inside": round(self.inside, 4), "trusted_seconds": round(self.trusted_seconds, 4),
                "cell_seconds": round(self.cell_seconds, 4)}

    # -- encoding ---------------------------------------------------------------------

    @staticmethod
    def _function_form(value):
        from course.checks import KnownFunction

        if type(value) is KnownFunction:
            return {"$kf": value.name, "params": agent.encode(value.params)}
        if type(value) is Proxy:
            return {"$fn": value.__name__}
        if callable(value):
            name = getattr(value, "__name__", type(value).__name__)
            raise agent.Refused(
                f"the function {name} (the judge sends no code to the kernel: a test hands a "
                "student's function course.checks.known_function(...) or another student function)")
        return None

    def _encode(self, value):
        try:
            return agent.encode(value, functions=self._function_form)
        except agent.Refused as why:
            raise TypeError(f"the grader cannot send {why}") from None

    # -- requests ---------------------------------------------------------------------

    def request(self, req: dict) -> dict:
        start = time.perf_counter()
        try:
            reply = self.executor.judge_request(req)
        finally:
            self.requests += 1
            self.seconds += time.perf_counter() - start
        spent = reply.get("t") if isinstance(reply, dict) else None
        if type(spent) is float and 0.0 <= spent:
            self.inside += spent
        return reply

    def _answer(self, name: str, reply: dict):
        if "refused" in reply:
            raise TypeError(f"{name} returned {reply['refused']}")
        if "error" in reply:
            raise rebuild_error(reply)
        if "ok" not in reply:
            raise JudgeError(f"a garbled answer for {name}")
        return agent.decode(reply["ok"])

    def lookup(self, names: list[str]) -> dict[str, Any]:
        if not names:
            return {}
        reply = self.request({"op": "lookup", "names": sorted(names)})
        out: dict[str, Any] = {}
        for name in names:
            info = reply.get(name, {}) if isinstance(reply, dict) else {}
            kind = info.get("kind")
            if kind == "callable":
                out[name] = Proxy(self, name)
            elif kind == "value":
                try:
                    out[name] = agent.decode(info["value"])
                except Exception:  # noqa: BLE001 -- a garbled value is an unusable one
                    out[name] = Unavailable(name, "not plain data")
            elif kind == "refused":
                out[name] = Unavailable(name, str(info.get("why", "not plain data")))
        return out

    def call(self, name: str, args: tuple, kwargs: dict):
        req = {"op": "call", "name": name, "args": self._encode(list(args)),
               "kwargs": self._encode(dict(kwargs))}
        if self._by_hand:
            req["by_hand"] = self._by_hand[-1]
        reply = self.request(req)
        for where, form in (reply.get("mutated") or {}).items() if isinstance(reply, dict) else ():
            # The function wrote into its arguments in the kernel: so it did into the caller's.
            kind, _, key = where.partition(":")
            target = args[int(key)] if kind == "args" and int(key) < len(args) else kwargs.get(key)
            if type(target) is np.ndarray and target.flags.writeable:
                new = agent._unnpy(form)
                if new.shape == target.shape:
                    with np.errstate(all="ignore"):
                        target[...] = new.astype(target.dtype, copy=False)
        if isinstance(reply, dict) and reply.get("by_hand"):
            # The library call is the verdict, whatever the function then returned or raised.
            raise self._by_hand_error(self._by_hand[-1] if self._by_hand else name, str(reply["by_hand"]))
        return self._answer(name, reply)

    @staticmethod
    def _by_hand_error(what: str, routine: str):
        from course.checks import ByHandError

        return ByHandError(
            f"{what} called {routine}, but it must be written by hand with NumPy only "
            "(no SciPy, numpy.pad, numpy.convolve or numpy.correlate). "
            "Use loops or array slicing instead.")

    # -- course.checks hooks ----------------------------------------------------------

    @contextlib.contextmanager
    def by_hand(self, what: str):
        """Calls inside the block are by-hand calls (see :mod:`autograder.agent`)."""
        self._by_hand.append(what)
        try:
            yield
        finally:
            self._by_hand.pop()

    def fresh_seed(self) -> int:
        import secrets

        return secrets.randbits(32)

    def speed_ratio(self, func, plan, reference_name: str):
        from course import checks

        if type(func) is not Proxy:  # the instructor's own function: time it here
            raise TypeError("speed_ratio under the judge times a student's function")
        reference = checks._REFERENCES[reference_name]
        req = {"op": "speed", "name": func.__name__, "reference": reference_name,
               "plan": [[self._encode(tuple(args)) for args in args_list] for args_list in plan]}
        start = time.perf_counter()
        reply = self.request(req)
        wall = time.perf_counter() - start
        data = self._answer(func.__name__, reply)
        t_ref, t_func = float(data["t_ref"]), float(data["t_func"])
        results = list(data["results"])
        calls = sum(len(a) - 1 for a in plan)
        if len(results) != calls:
            raise JudgeError(f"the kernel answered {len(results)} of {calls} timed calls")
        # Times the kernel reports cannot exceed the time the request took, and the
        # reference is also timed here (the kernel's numpy could be slowed on purpose).
        t_func = max(t_func, 0.0)
        if t_ref + t_func * calls / max(len(plan), 1) > wall * 1.05 + 1e-3:
            t_ref = min(t_ref, wall)
        mine = time.perf_counter()
        reference(*plan[0][0])
        t_ref = min(t_ref, time.perf_counter() - mine)
        return t_ref, max(t_func, 1e-9), results


# --------------------------------------------------------------------------------------
# The Execute preprocessor
# --------------------------------------------------------------------------------------

def _transform(source: str) -> str:
    """IPython syntax (magics, ``!``) as plain Python, for trusted cells run here."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return TransformerManager().transform_cell(source)


@functools.cache
def judge_class() -> type:
    """Build :class:`JudgeExecute` on the sandbox's executor (nbgrader imported lazily)."""
    from jupyter_core.utils import ensure_async, run_sync
    from nbclient.exceptions import DeadKernelError
    from nbformat.v4 import new_output
    from traitlets import Bool, Float

    from autograder.sandbox import SandboxExecute

    class JudgeExecute(SandboxExecute):
        """SandboxExecute whose test cells are judged in the grader's process."""

        judge_tests = Bool(True, help="Run test cells in the grader's process (the judge).").tag(
            config=True)
        request_timeout = Float(0, help="Seconds one request to the kernel may take "
                                        "(0: the cell timeout).").tag(config=True)

        _judge: Judge | None = None
        _trusted: dict | None = None
        _trusted_ns: dict | None = None
        _trusted_done = -1
        _kernel_lost = ""

        def preprocess(self, nb, resources=None, km=None):  # noqa: D102
            self._judge = Judge(self)
            self._trusted = self._trusted_sources(resources or {})
            self._trusted_ns = None
            self._trusted_done = -1
            self._kernel_lost = ""
            try:
                return super().preprocess(nb, resources, km)
            finally:
                self._drop_session()  # none is left open; this is only a safety net
                if self._judge is not None and resources is not None:
                    resources.setdefault("judge", {}).update(self._judge.stats())

        # -- which cells are the instructor's ---------------------------------------

        def _trusted_sources(self, resources) -> dict | None:
            """{grade_id: (source, locked, grade)} from the gradebook (None: unknown)."""
            info = resources.get("nbgrader", {}) if isinstance(resources, dict) else {}
            db_url, assignment, notebook = (info.get(k) for k in ("db_url", "assignment", "notebook"))
            if not (db_url and assignment and notebook):
                return None
            from nbgrader.api import Gradebook

            try:
                with Gradebook(db_url) as gb:
                    nbrec = gb.find_notebook(notebook, assignment)
                    return {c.name: (c.source, bool(c.locked), c.name in {g.name for g in nbrec.grade_cells})
                            for c in nbrec.source_cells}
            except Exception:  # noqa: BLE001 -- no gradebook entry: nothing is trusted
                self.log.warning("judge: no gradebook entry for %s/%s: test cells run in the kernel",
                                 assignment, notebook, exc_info=True)
                return None

        def _instructor_cell(self, cell, want_grade: bool) -> bool:
            meta = cells.nbgrader_meta(cell)
            grade_id = meta.get("grade_id")
            if not self._trusted or not grade_id or grade_id not in self._trusted:
                return False
            source, locked, grade = self._trusted[grade_id]
            return source == cell.source and grade == want_grade and (grade or locked)

        def _is_judged(self, cell) -> bool:
            return (self.judge_tests and self._trusted is not None and cells.is_test_cell(cell)
                    and self._instructor_cell(cell, True))

        # -- cells ------------------------------------------------------------------

        def preprocess_cell(self, cell, resources, index):  # noqa: D102
            if not self._is_judged(cell):
                return super().preprocess_cell(cell, resources, index)
            if self._stopped:
                cell.outputs = [self._error("KernelStopped", f"not run: {self._stopped}")]
                return cell, self.resources
            try:
                self._judge_cell(cell, index)
            except DeadKernelError:
                self._stop(cell, "DeadKernelError", "the kernel died while the tests called it")
            except _KernelHung as err:
                self._stop(cell, "CellTimeoutError", str(err))
            return cell, self.resources

        def _next_code_cell_judged(self, index: int) -> bool:
            """Whether the next code cell is judged too: then the kernel runs nothing in
            between, and the session (and its by-hand child) serves that cell as well."""
            for cell in self.nb.cells[index + 1:]:
                if cell.cell_type == "code":
                    return self._is_judged(cell)
            return False

        def _run_trusted_upto(self, index: int) -> dict:
            if self._trusted_ns is None:
                self._trusted_ns = {"__name__": "__judge__", "__builtins__": builtins}
            start = time.perf_counter()
            for i in range(self._trusted_done + 1, index):
                cell = self.nb.cells[i]
                meta = cells.nbgrader_meta(cell)
                if (cell.cell_type == "code" and meta.get("locked") and not meta.get("grade")
                        and not meta.get("solution") and self._instructor_cell(cell, False)):
                    self._exec_trusted(cell.source)
            self._trusted_done = max(self._trusted_done, index - 1)
            self._judge.trusted_seconds += time.perf_counter() - start
            return self._trusted_ns

        def _exec_trusted(self, source: str) -> None:
            try:
                tree = ast.parse(_transform(source))
            except SyntaxError:
                return
            quiet = io.StringIO()
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _agg_backend()
                for stmt in tree.body:  # one by one: a failing statement does not stop the rest
                    try:
                        exec(compile(ast.Module([stmt], []), "<trusted cell>", "exec"), self._trusted_ns)
                    except BaseException:  # noqa: BLE001
                        self.log.debug("judge: a trusted statement failed here", exc_info=True)

        def _judge_cell(self, cell, index: int) -> None:
            from course.checks import JUDGE

            grade_id = cells.nbgrader_meta(cell).get("grade_id", "test")
            cell.outputs = []
            try:
                tree = ast.parse(cell.source)
            except SyntaxError as err:
                cell.outputs = [self._error("SyntaxError", str(err))]
                return
            ns = dict(self._run_trusted_upto(index))
            wanted = sorted(n for n in free_names(tree) if n not in ns)
            started = time.perf_counter()
            try:
                ns.update(self._judge.lookup(wanted))
            except _Abort as abort:
                if abort.kind == "dead":
                    raise DeadKernelError(abort.message) from None
                raise _KernelHung(abort.message) from None
            out = io.StringIO()
            error = None

            def showwarning(message, category, filename, lineno, file=None, line=None):
                out.write(f"{category.__name__}: {message}\n")

            token = JUDGE.set(self._judge)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
                        warnings.catch_warnings():
                    warnings.simplefilter("default")
                    warnings.showwarning = showwarning
                    try:
                        exec(compile(tree, f"<{grade_id}>", "exec"), ns)
                    except _Abort as abort:
                        if abort.kind == "dead":
                            raise DeadKernelError(abort.message) from None
                        if abort.kind == "hung":
                            raise _KernelHung(abort.message) from None
                        error = _CellTimeout(abort.message)
                    except BaseException as err:  # noqa: BLE001 -- the cell's failure
                        error = err
            finally:
                JUDGE.reset(token)
                if not self._next_code_cell_judged(index):
                    self.close_session()
                self._judge.cell_seconds += time.perf_counter() - started
            text = out.getvalue()
            if len(text) > MAX_STDOUT:
                text = text[:MAX_STDOUT] + "\n... output truncated ...\n"
            if text:
                cell.outputs.append(new_output("stream", name="stdout", text=text))
            if error is not None:
                ename = type(error).__name__
                evalue = str(error)[: self.max_output_chars if self.max_output_chars > 0 else None]
                cell.outputs.append(new_output("error", ename=ename, evalue=evalue,
                                               traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]))

        # -- one request: over a Unix socket the kernel's agent serves during a test cell

        _session = None  # (socket, msg_id of the kernel's session cell)

        def judge_request(self, req: dict) -> dict:
            if self._stopped:
                raise JudgeError(f"the kernel was stopped: {self._stopped}")
            if self._session is None:
                try:
                    self._open_session()
                except DeadKernelError as err:
                    raise _Abort("dead", str(err)) from None
            conn, msg_id = self._session
            timeout = float(self.request_timeout or self.timeout or 60)
            try:
                agent._send(conn.fileno(), req)
                return self._receive(conn, msg_id, timeout)
            except DeadKernelError as err:  # past the test's own `except Exception`
                self._drop_session()
                raise _Abort("dead", str(err)) from None
            except _KernelHung as err:
                self._drop_session()
                raise _Abort("hung", str(err)) from None
            except TimeoutError as err:
                self._drop_session()
                raise _Abort("timeout", str(err)) from None
            except BaseException:
                self._drop_session()
                raise

        def _receive(self, conn, msg_id: str, timeout: float) -> dict:
            fd = conn.fileno()
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    run_sync(self._interrupt)()
                    if run_sync(self._wait_reply)(msg_id, self.recover_timeout) is None:
                        raise _KernelHung(f"a call from the tests ran longer than {timeout:g} s "
                                          "and the kernel did not stop when interrupted")
                    raise TimeoutError(f"a call from the tests ran longer than {timeout:g} s")
                ready, _, _ = select.select([fd], [], [], min(left, 1.0))
                if ready:
                    try:
                        return agent._recv(fd)
                    except EOFError:
                        reply = run_sync(self._wait_reply)(msg_id, self.recover_timeout)
                        if reply is None and not run_sync(self._alive)():
                            raise DeadKernelError("Kernel died") from None
                        content = (reply or {}).get("content", {})
                        raise JudgeError("the kernel stopped answering the tests"
                                         + (f" ({content.get('ename')}: {content.get('evalue')})"
                                            if content.get("status") == "error" else "")) from None
                if not run_sync(self._alive)():
                    raise DeadKernelError("Kernel died")

        async def _interrupt(self) -> None:
            await ensure_async(self.km.interrupt_kernel())

        async def _alive(self) -> bool:
            return bool(await ensure_async(self.km.is_alive()))

        def _open_session(self) -> None:
            folder = self.run_dir or tempfile.gettempdir()
            path = os.path.join(folder, f"judge-{uuid.uuid4().hex[:12]}.sock")
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                server.bind(path)
                os.chmod(path, 0o777)  # the kernel may run as another user (nobody)
                server.listen(1)
                server.settimeout(0.1)
                msg_id = self.kc.execute(
                    f"__import__('autograder.agent').agent.session({path!r})", silent=True,
                    store_history=False, allow_stdin=False, stop_on_error=False)
                deadline = time.monotonic() + max(10.0, float(self.recover_timeout))
                while True:
                    try:
                        conn, _ = server.accept()
                        break
                    except TimeoutError:
                        reply = run_sync(self._wait_reply)(msg_id, 0.0)
                        if reply is not None:
                            content = reply["content"]
                            raise JudgeError("the kernel could not serve the tests: "
                                             f"{content.get('ename')}: {content.get('evalue')}") from None
                        if time.monotonic() > deadline:
                            if not run_sync(self._alive)():
                                raise DeadKernelError("Kernel died") from None
                            raise JudgeError("the kernel did not connect to the judge") from None
            finally:
                server.close()
                with contextlib.suppress(OSError):
                    os.unlink(path)
            conn.setblocking(True)
            self._session = (conn, msg_id)

        def close_session(self) -> None:
            if self._session is None:
                return
            conn, msg_id = self._session
            self._session = None
            try:
                agent._send(conn.fileno(), {"op": "bye"})
            except OSError:
                pass
            conn.close()
            if run_sync(self._wait_reply)(msg_id, max(5.0, float(self.recover_timeout))) is None:
                self.log.warning("judge: the kernel did not end its session")

        def _drop_session(self) -> None:
            if self._session is not None:
                conn, _ = self._session
                self._session = None
                conn.close()

        async def _wait_reply(self, msg_id: str, timeout: float):
            deadline = time.monotonic() + timeout
            while True:
                left = max(deadline - time.monotonic(), 0.0)
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
                except (TimeoutError, Empty):
                    return None
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg
                if left <= 0:
                    return None

    JudgeExecute.__module__ = __name__
    JudgeExecute.__qualname__ = "JudgeExecute"
    return JudgeExecute


class _KernelHung(RuntimeError):
    """The kernel did not stop after a timed-out request was interrupted."""


class _Abort(BaseException):
    """Ends a judged test cell (a BaseException: the test's `except Exception` lets it by)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


class _CellTimeout(Exception):
    """What a test cell shows when a call into the kernel timed out."""


_CellTimeout.__name__ = "CellTimeoutError"


def _agg_backend() -> None:
    try:
        import matplotlib

        if matplotlib.get_backend().lower() != "agg":
            matplotlib.use("Agg", force=True)
    except Exception:  # noqa: BLE001
        pass


def __getattr__(name: str) -> Any:
    if name == "JudgeExecute":
        return judge_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------

#: What :func:`harden_autograde` set, by its arguments, for ``once=True`` (see there).
_DONE: dict = {}
_SECTIONS = ("Execute", "SandboxExecute", "LimitOutput")


_PRIVATE: list[Path] = []


def _private_workdir() -> Path:
    """A folder of this process only (removed at exit); folders of dead processes go first.

    Two grading processes must never share the folder the kernelspec is written to: each
    one's kernelspec names its own run folder, and a kernel started from the other's spec
    waits on sockets nobody listens to (a fresh-clone run hung 300 s on that).
    """
    if _PRIVATE:
        return _PRIVATE[0]
    import atexit
    import shutil

    base = Path(tempfile.gettempdir())
    for old in base.glob(f"course-judge-{os.getuid()}-*"):
        pid = old.name.rsplit("-", 2)[-2] if old.name.count("-") >= 4 else ""
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"course-judge-{os.getuid()}-{os.getpid()}-", dir=base))
    atexit.register(shutil.rmtree, path, True)
    _PRIVATE.append(path)
    return path


def harden_autograde(config, workdir: Path | None = None, limits=None, hide=(), *, env=None,
                     once=False) -> dict:
    """Sandbox, limits and the judge in nbgrader's Autograde chain (edits ``config``).

    Parameters
    ----------
    config : traitlets.config.Config
    workdir : Path or None
        A folder of this grading process only (the kernelspec goes there); None: a private
        folder made for this process and removed at its exit.
    limits : autograder.sandbox.Limits, optional
    hide : sequence of Path
        Folders hidden from the kernel (see :func:`autograder.sandbox.configure`).

    once : bool
        Within one process, a second call with the same arguments sets the same values
        (same kernelspec, same run folder) instead of making new ones: nbgrader's
        commands may load ``nbgrader_config.py`` twice, and the kernelspec written last
        must be the one the config names.

    Returns
    -------
    dict
        ``{"sandbox": bool, "message": str}``: whether bubblewrap confines the kernel, and
        what to tell the user when it does not.
    """
    from nbgrader.converters import Autograde

    from autograder import sandbox

    if workdir is None:  # one folder per set of arguments: each has its own kernelspec
        import hashlib

        digest = hashlib.sha1(repr((repr(limits), tuple(map(str, hide)), repr(env))).encode())
        workdir = _private_workdir() / digest.hexdigest()[:12]
    workdir = Path(workdir)
    key = (str(workdir.resolve()), repr(limits), tuple(map(str, hide)), repr(env))
    if once and key in _DONE:
        sections, chain, answer = _DONE[key]
        for name, values in sections.items():
            for trait, value in values.items():
                setattr(config[name], trait, value)
        config.Autograde.autograde_preprocessors = list(chain)
        return dict(answer)
    limits = limits if limits is not None else sandbox.Limits()
    if "autograder.agent" not in limits.extensions:
        limits.extensions = [*limits.extensions, "autograder.agent"]
    limits.extensions = [e for e in limits.extensions if e != "autograder.guard"]
    if "autograde_preprocessors" in config.Autograde:  # hardened before: start again from Execute
        from nbgrader.preprocessors import Execute

        config.Autograde.autograde_preprocessors = [
            Execute if getattr(pp, "__name__", pp) in ("JudgeExecute", "SandboxExecute") else pp
            for pp in config.Autograde.autograde_preprocessors]
    sandbox.configure(config, Path(workdir), limits, hide=list(hide), env=env)
    execute = sandbox.SandboxExecute
    judged = judge_class()
    chain = list(config.Autograde.autograde_preprocessors) if "autograde_preprocessors" in \
        config.Autograde else list(Autograde.class_traits()["autograde_preprocessors"].default())
    chain = [judged if pp in (execute, "autograder.sandbox.SandboxExecute") else pp for pp in chain]
    if judged not in chain:
        chain.insert(0, judged)
    config.Autograde.autograde_preprocessors = chain
    # SandboxExecute's settings apply to the subclass (traitlets looks up parents' names).
    sandboxed = limits.sandbox and sandbox.sandbox_available()
    answer = {"sandbox": sandboxed, "message": "" if sandboxed else sandbox.MISSING_BWRAP}
    if once:
        _DONE[key] = ({name: dict(config[name]) for name in _SECTIONS}, list(chain), answer)
    return answer
