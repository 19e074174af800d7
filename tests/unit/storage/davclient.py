"""An in-process WebDAV client for the storage app: WSGI calls with Basic authentication."""

from __future__ import annotations

import base64
import io
from typing import Any

from tests.storagekit import PASSWORD


class Client:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.body = b""

    def __call__(self, login: str, method: str, path: str, body: bytes = b"",
                 password: str = PASSWORD, **headers: str) -> int:
        # WSGI hands the path as latin-1 decoded bytes (PEP 3333).
        env = {"REQUEST_METHOD": method, "SCRIPT_NAME": "",
               "PATH_INFO": path.encode("utf-8", "surrogateescape").decode("latin-1"),
               "QUERY_STRING": "", "SERVER_NAME": "carine", "SERVER_PORT": "8444",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "https",
               "HTTP_HOST": "carine:8444",
               "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
               "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(
                   f"{login}:{password}".encode()).decode()}
        for key, value in headers.items():
            env["HTTP_" + key.upper()] = value
        status: list[str] = []
        out = self.app(env, lambda s, h, e=None: status.append(s))
        self.body = b"".join(out)
        if hasattr(out, "close"):
            out.close()
        return int(status[0].split()[0])
