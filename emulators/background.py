"""The lifecycle both emulators share: a threaded HTTP server on a background thread."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Optional, TypeVar

Self = TypeVar("Self", bound="BackgroundServer")


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class BackgroundServer:
    """``start()`` / ``stop()`` / ``with``, ``port`` and ``url``; subclasses build the server."""

    _thread_name = "emulator"

    def __init__(self, host: str, port: int) -> None:
        self._bind = (host, port)
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    def _make_server(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        raise NotImplementedError

    def start(self: Self) -> Self:
        if self._server is not None:
            return self
        server = self._make_server(self._bind)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{self._thread_name}-{server.server_address[1]}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: Self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Start and block (for ``file-records emulate``); Ctrl-C stops."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        host = self._server.server_address[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
