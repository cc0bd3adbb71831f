"""The test RTSP server (``tools/rtsp_test_server.py``) as a process tests start, kill and
restart on the same port, with readiness polled (it prints ``ready`` once it listens)."""

from __future__ import annotations

from pathlib import Path

from tests.support.processes import ROOT, ManagedProcess, free_port

SYSTEM_PYTHON = "/usr/bin/python3"  # GStreamer's bindings are Debian's, not the venv's
SERVER = ROOT / "tools" / "rtsp_test_server.py"
USER = "camuser"
PASSWORD = "cam-secret-Pw9"


class RtspServer:
    """One RTSP server on a loopback port that stays the same across restarts."""

    def __init__(self, log_dir: Path, user: str = USER, password: str = PASSWORD) -> None:
        self.port = free_port()
        self.user = user
        self.password = password
        argv = [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port)]
        argv += ["--user", user, "--password", password]
        self._process = ManagedProcess(f"rtsp-{self.port}", argv, log_dir, stop_timeout=5)

    def url(self, mount: str = "cam", credentials: bool = True) -> str:
        """The stream's URL (with the user and password unless ``credentials`` is false)."""
        login = f"{self.user}:{self.password}@" if credentials else ""
        return f"rtsp://{login}127.0.0.1:{self.port}/{mount}"

    def start(self) -> RtspServer:
        self._process.log_path.unlink(missing_ok=True)  # so "ready" is this process's
        self._process.start()
        self._process.wait_ready(lambda: "ready" in self._process.tail(5), 30)
        return self

    def kill(self) -> None:
        """SIGKILL, as a camera losing power would; its port frees at once."""
        self._process.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self._process.stop()
