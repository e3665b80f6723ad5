"""The API served on localhost (Chalice's local server in a thread), against the same emulator."""

from __future__ import annotations

import threading
from typing import Any

from callsight.local.runner import load_function_module


class LocalApi:
    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        from chalice.config import Config
        from chalice.local import LocalDevServer

        module = load_function_module("api")
        if module is None:
            raise RuntimeError("functions/api/app.py is missing")
        self._server: Any = LocalDevServer(module.app, Config(chalice_stage="dev"), host, port)
        self.url = f"http://{host}:{self._server.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, name="callsight-api", daemon=True
        )

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.server.shutdown()
