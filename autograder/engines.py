"""Where grading runs: local grading processes (the default) or a Dask cluster.

Both run the same thing, a grading process of :mod:`autograder.worker` per worker thread,
and yield its answers as they come; the pipeline's main process applies them to the
gradebook. An engine never writes the course's gradebook.

* :class:`LocalEngine`: ``workers`` threads of this process, each driving its own grading
  process. No Dask needed.
* :class:`DaskEngine`: a ``distributed`` cluster. ``cluster`` is a scheduler address
  (``tcp://host:8786``), ``local:N`` for a :class:`distributed.LocalCluster` of N worker
  processes started here, a :class:`distributed.Client`, or any cluster object a
  ``Client`` accepts (Dask Gateway, ``dask-jobqueue``, ``dask-kubernetes``). Each task
  autogrades one submission (:func:`autograder.worker.grade_task`), with ``retries=1``;
  a worker lost mid-notebook is handled by Dask's scheduler, which runs the task again
  on another worker until ``distributed.scheduler.allowed-failures`` losses (``local:N``
  sets it to 1: retried once, then recorded with its reason).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ClusterError", "DaskEngine", "Job", "LocalEngine", "make_engine"]


class ClusterError(RuntimeError):
    """The Dask cluster cannot be used (not installed, unreachable, no workers)."""


@dataclass
class Job:
    """One submission to grade: who, its files, and its assignment's source bundle."""

    student: str
    assignment: str
    files: dict[str, bytes]
    source: dict  # {"hash": str, "files": {name: bytes}}, shared by the assignment's jobs

    @property
    def request(self) -> dict:
        return {"student": self.student, "assignment": self.assignment, "files": self.files}


def _failed(reason: str) -> dict:
    return {"ok": False, "reason": reason, "notebooks": {}, "files": {}}


class LocalEngine:
    """``workers`` grading processes on this machine, one per thread of this process.

    Parameters
    ----------
    workers : int
        Grading processes run at the same time.
    limits_json : str
        The kernels' :class:`autograder.sandbox.Limits`, as JSON.
    timeout : float
        Seconds one submission may take; then its grading process is killed.
    log_dir : Path
        Grading process ``i`` logs to ``log_dir/worker-i.log``.
    gradebook : bytes, optional
        An empty, migrated SQLite gradebook for the grading processes to start from.
    """

    def __init__(self, workers: int, limits_json: str, timeout: float, log_dir: Path,
                 gradebook: bytes | None = None):
        from autograder.worker import GradingProcess

        self.workers = max(1, int(workers))
        self.timeout = timeout
        self.gradebook = gradebook
        # Workers share the cores: one BLAS/OpenMP pool per core, not one per worker each.
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        counter = itertools.count()
        self._local = threading.local()
        self._handles: list = []
        self._lock = threading.Lock()

        def handle() -> GradingProcess:
            h = getattr(self._local, "handle", None)
            if h is None:
                with self._lock:
                    h = GradingProcess(limits_json, Path(log_dir) / f"worker-{next(counter)}.log",
                                       threads)
                    self._handles.append(h)
                self._local.handle = h
            return h

        self._handle = handle
        self._pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="grader")

    def _grade(self, job: Job) -> dict:
        try:
            return self._handle().grade(job.request, job.source, self.gradebook, self.timeout)
        except Exception as err:  # a failure is an answer, never a crash
            return _failed(f"the grading process could not be used: {type(err).__name__}: {err}")

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, dict]]:
        """Grade ``jobs`` (in order, ``workers`` at a time); yield ``(job, answer)`` as done."""
        futures = {self._pool.submit(self._grade, job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        """Stop the grading processes (killing any still at work) and the threads."""
        for h in list(self._handles):
            h.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for h in list(self._handles):
            h.close()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DaskEngine:
    """Grading tasks on a Dask ``distributed`` cluster.

    Parameters
    ----------
    cluster : str or Client or cluster object
        ``tcp://host:port`` (a running scheduler), ``local:N`` (a LocalCluster of N
        single-threaded worker processes, started and stopped here), a
        :class:`distributed.Client`, or a cluster object (``Client(cluster)`` is used).
    limits_json, timeout, gradebook
        As for :class:`LocalEngine`; the timeout is enforced on the worker.
    wait_for_workers : float
        Seconds to wait for the cluster's first worker before giving up.
    """

    def __init__(self, cluster: Any, limits_json: str, timeout: float,
                 gradebook: bytes | None = None, wait_for_workers: float = 120):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ClusterError("grading on a Dask cluster needs the optional extra: "
                               "pip install '.[cluster]' (Dask's distributed)") from None
        self.limits_json = limits_json
        self.timeout = timeout
        self.gradebook = gradebook
        self._own: list = []
        if isinstance(cluster, Client):
            self.client = cluster
        elif isinstance(cluster, str) and cluster.startswith("local:"):
            n = _local_workers(cluster)
            # A worker lost mid-notebook: its task runs once more elsewhere, then is recorded.
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                     dashboard_address=None, silence_logs=40)
            self._own.append(local)
            self.client = Client(local)
            self._own.insert(0, self.client)
        else:
            try:
                self.client = Client(cluster, timeout=30)
            except (OSError, TimeoutError) as err:
                raise ClusterError(f"cannot reach the Dask scheduler at {cluster}: {err}") from None
            self._own.append(self.client)
        try:
            self.client.wait_for_workers(1, timeout=wait_for_workers)
        except TimeoutError:
            where = self.client.scheduler.address if self.client.scheduler else cluster
            self.close()
            raise ClusterError(f"the Dask cluster {where} has no worker after "
                               f"{wait_for_workers:g} s") from None

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, dict]]:
        """Submit every job as a task; yield ``(job, answer)`` as tasks finish."""
        from distributed import as_completed

        from autograder.worker import bundle, grade_task

        jobs = list(jobs)
        # Each assignment's source and the empty gradebook go to the cluster once, as tasks
        # of their own (not scattered data: if the worker holding them is lost, Dask makes
        # them again); a worker fetches them the first time one of its tasks needs them.
        sources = {}
        for job in jobs:
            if job.source["hash"] not in sources:
                sources[job.source["hash"]] = self.client.submit(
                    bundle, job.source, key=f"source-{job.assignment}-{job.source['hash'][:12]}",
                    pure=False)
        gradebook = (self.client.submit(bundle, self.gradebook, key=f"gradebook-{uuid.uuid4().hex[:8]}",
                                        pure=False) if self.gradebook else None)
        futures = {}
        for job in jobs:
            key = f"grade-{job.assignment}-{job.student}-{uuid.uuid4().hex[:8]}"
            future = self.client.submit(grade_task, job.request, sources[job.source["hash"]],
                                        gradebook, self.limits_json, self.timeout, key=key,
                                        retries=1, pure=False)
            futures[future] = job
        try:
            for future in as_completed(futures):
                job = futures[future]
                yield job, _answer_of(future)
                future.release()
        finally:
            for future in [*futures, *sources.values(), *([gradebook] if gradebook else [])]:
                future.cancel()

    def close(self) -> None:
        """Close the client (and the LocalCluster) this engine started."""
        for thing in self._own:
            try:
                thing.close()
            except Exception:  # closing a cluster that is already going away
                pass
        self._own = []

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _answer_of(future) -> dict:
    """The task's answer, or a failed answer saying why there is none."""
    from distributed.scheduler import KilledWorker

    try:
        return future.result()
    except KilledWorker as err:
        tries = getattr(err, "allowed_failures", 0) + 1
        last = getattr(getattr(err, "last_worker", None), "address", "?")
        return _failed(f"the Dask worker grading it was lost, {tries} time(s) (last: {last})")
    except concurrent.futures.CancelledError:
        return _failed("the Dask task was cancelled (the cluster went away?)")
    except Exception as err:
        text = " ".join(str(err).split())[:300]
        return _failed(f"the Dask task failed twice: {type(err).__name__}: {text}")


def _local_workers(spec: str) -> int:
    try:
        n = int(spec.split(":", 1)[1])
    except ValueError:
        n = 0
    if n < 1:
        raise ClusterError(f"--cluster {spec}: expected local:N with N >= 1 worker processes")
    return n


def make_engine(cluster: Any, workers: int, limits_json: str, timeout: float, log_dir: Path,
                gradebook: bytes | None = None):
    """:class:`LocalEngine` when ``cluster`` is None, else :class:`DaskEngine`."""
    if cluster is None:
        return LocalEngine(workers, limits_json, timeout, log_dir, gradebook)
    return DaskEngine(cluster, limits_json, timeout, gradebook)
