"""A real Jupyter server (with nbgrader's formgrader) on a free loopback port, for tests."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str):
        self.url = url

    def get(self, path: str, deadline: float | None = None):
        """GET ``path`` as JSON, retrying until ``deadline`` (monotonic) while it starts."""
        deadline = deadline or time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(self.url + path, timeout=30) as response:
                    return json.loads(response.read())
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def post(self, path: str, body: dict | None = None, method: str = "POST"):
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def text(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=120) as response:
            return response.read().decode("utf-8")


@contextmanager
def jupyter_server(root: Path, log: Path, xsrf: bool = False):
    """Start ``jupyter server`` in course folder ``root`` (formgrader reads its config)."""
    port = free_port()
    args = [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--allow-root",
            f"--ServerApp.root_dir={root}"]
    if not xsrf:
        args.append("--ServerApp.disable_check_xsrf=True")
    with open(log, "w") as out:
        server = subprocess.Popen(args, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    try:
        srv = Server(f"http://127.0.0.1:{port}")
        srv.get("/formgrader/api/status")
        yield srv
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
