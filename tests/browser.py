"""The browser tests' harness: Debian's Chromium offline, and JupyterLab on copies of notebooks."""

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

import pdfs

TIMEOUT_MS = 60_000
# the current notebook panel's kernel, connected and idle (exposed by --LabApp.expose_app_in_browser)
KERNEL_IDLE = """(path) => {
    const panel = window.jupyterapp?.shell.currentWidget;
    const kernel = panel?.context?.path === path && panel.sessionContext?.session?.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""


def described(alt: str) -> bool:
    """True for alt text that says something (not empty, a file name or nbconvert's stand-in)."""
    return bool(alt.strip()) and not alt.endswith(".png") and "No description" not in alt


class LabServer:
    """JupyterLab on 127.0.0.1 with a random token serving a copy of ``notebooks`` (root/notebooks)
    from a scratch folder with its own settings (no news; no windowing: every cell in the page)."""

    def __init__(self, folder: Path, notebooks: Path):
        self.folder, self.root = folder, folder / "root"
        shutil.copytree(notebooks, self.root / "notebooks", ignore=shutil.ignore_patterns(".*"))
        (folder / "overrides.json").write_text(json.dumps({  # defaults, from app_settings_dir
            "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                            "checkForUpdates": False}}))
        self.token, self.url = secrets.token_hex(24), None  # the address once the server listens
        env = dict(os.environ, **{name: str(folder / sub) for name, sub in [
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib")]})
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",  # the system picks a free port (the runtime file says which)
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True", f"--LabApp.app_settings_dir={folder}",
            "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True"]
        self.log = (folder / "server.log").open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(300):  # about 90 s; no file yet, or half written
            with contextlib.suppress(OSError, ValueError, StopIteration):
                info = json.loads(next((folder / "runtime").glob("jpserver-*.json")).read_text())
                self.url = f"http://127.0.0.1:{info['port']}"
                self.api("/api/status")
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("JupyterLab did not start:\n" + (folder / "server.log").read_text()[-2000:])

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    @contextlib.contextmanager
    def open(self, context, path: str, workspace: str):
        """Open ``path`` in a workspace of its own, reset (nothing restored from another
        notebook); give the page once the notebook's kernel is idle, and a list that collects
        the page's script errors and requests to anything but this server.  On leaving, the
        page closes and every kernel shuts down (one kernel at a time)."""
        page, problems = context.new_page(), []
        page.set_viewport_size({"width": 1280, "height": 800})
        page.on("pageerror", lambda e: problems.append(f"script error: {e}"))

        def refuse(route):
            problems.append(f"tried the network: {route.request.url}")
            route.abort()

        page.route(lambda url: not url.startswith((self.url, *pdfs.INLINE_SCHEMES)), refuse)
        try:
            page.goto(f"{self.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}")
            page.wait_for_function(KERNEL_IDLE, arg=path, timeout=TIMEOUT_MS)
            yield page, problems
        finally:
            page.close()
            for session in self.api("/api/sessions"):
                self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> list[str]:
        """Shut the server down (kernels first); return the processes left behind (none)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):  # ValueError: no address yet
                self.api("/api/shutdown", method="POST")
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        self.log.close()
        mine = [p for p in psutil.process_iter(["cmdline"]) if p.pid != os.getpid()
                and str(self.folder) in " ".join(p.info["cmdline"] or [])]
        _, left = psutil.wait_procs(mine, timeout=10)  # the kernels may take a moment to exit
        return [f"{p.pid}: {' '.join(p.info['cmdline'])[:160]}" for p in left]
