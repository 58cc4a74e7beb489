"""A tiny web service for the end-to-end test: healthy until told to break, healed by a restart.

``python service.py PORT`` answers GET with 200 "ok"; after a POST it answers 500 until the
process is restarted (the broken state lives in memory, like a wedged worker pool).
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

broken = False


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._reply(500 if broken else 200, b"broken" if broken else b"ok")

    def do_POST(self) -> None:
        global broken
        broken = True
        self._reply(200, b"broken now")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
