"""A real HTTP server on a fixed loopback port that can go dead (port closed) and come back."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.ports import free_port


class Comeback:
    """Answers every GET and POST with 200 and ``body``, counting the calls it answered."""

    def __init__(self, body: bytes = b"app_ready 1\n") -> None:
        self.port = free_port()
        self.body = body
        self.calls = 0
        self.httpd: ThreadingHTTPServer | None = None

    def up(self) -> "Comeback":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.calls += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        """Close the port: connections are refused until ``up`` again."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
