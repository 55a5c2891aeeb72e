"""An optional tiny local server for a view page (``lstmkit inspect ... --serve``).

The static file is the default and needs no server; serving helps when a
browser refuses large ``file://`` pages or the page lives on another machine
reached through an SSH tunnel. The server is bound to 127.0.0.1 only (never
to a public interface), serves the one page at ``/`` (and at its file name)
and answers everything else with 404. It uses only :mod:`http.server`.
"""

from __future__ import annotations

import os
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"


def make_server(page: str | os.PathLike, port: int = 0) -> ThreadingHTTPServer:
    """A server (not yet running) for the HTML file ``page`` on 127.0.0.1:``port`` (0: any free port).

    Call ``serve_forever()`` on it; ``server.server_address`` holds the port chosen.
    """
    path = Path(page)
    body = path.read_bytes()
    names = {"/", "/" + path.name}
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"port: expected 0..65535, got {port}")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.split("?")[0] not in names:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # quiet: no line per request
            return

    return ThreadingHTTPServer((HOST, int(port)), Handler)


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
