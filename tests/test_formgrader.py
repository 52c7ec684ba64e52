"""nbgrader's formgrader opens the gradebook the pipeline wrote (a real Jupyter server)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

A01 = "01_convolution_by_hand"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, deadline: float):
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_formgrader_reads_the_pipelines_gradebook(graded_class, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--allow-root",
         f"--ServerApp.root_dir={graded_class.workspace}"],
        cwd=graded_class.workspace, stdout=open(tmp_path / "server.log", "w"),
        stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        assignments = _get(f"http://127.0.0.1:{port}/formgrader/api/assignments", deadline)
        by_name = {a["name"]: a for a in assignments}
        assert set(graded_class.assignments) <= set(by_name)
        subs = _get(f"http://127.0.0.1:{port}/formgrader/api/submissions/{A01}", deadline)
        scores = {s["student"]: s["score"] for s in subs}
        assert scores["01-solution"] == by_name[A01]["max_score"] > 0
        assert scores["01-blank"] == 0
        assert len(subs) == by_name[A01]["num_submissions"]
    finally:
        server.terminate()
        server.wait(timeout=30)
