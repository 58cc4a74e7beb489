"""The small web service `vigil demo` watches: healthy until it breaks, healed by a restart.

``python -m deployments.demo_service PORT`` answers GET / with 200 "ok"; after a POST
(what `vigil demo break` sends), or SECONDS after a POST to ``/?after=SECONDS`` (the timer
`vigil demo` sets once Vigil is up), it answers 500 "broken" until the process is restarted:
the broken state lives in memory, like a wedged worker pool, so only a restart heals it.
"""

import argparse
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class DemoService(ThreadingHTTPServer):
    """An HTTP server with one bit of state: broken or not."""

    is_broken = False


class Handler(BaseHTTPRequestHandler):
    server: DemoService

    def do_GET(self) -> None:
        broken = self.server.is_broken
        self._reply(500 if broken else 200, b"broken\n" if broken else b"ok\n")

    def do_POST(self) -> None:
        after = parse_qs(urlsplit(self.path).query).get("after")
        if after:
            timer = threading.Timer(float(after[0]), self._break)
            timer.daemon = True
            timer.start()
            self._reply(200, f"breaks in {float(after[0]):g}s\n".encode())
            return
        self._break()
        self._reply(200, b"broken now\n")

    def _break(self) -> None:
        self.server.is_broken = True

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the checks call often
        pass


def serve(port: int) -> None:
    """Serve on 127.0.0.1:``port`` until killed."""
    DemoService(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    serve(parser.parse_args().port)
