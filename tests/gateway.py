"""A real local HTTP server for the webhook delivery tests and the job-finished pushes."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    """A real local HTTP push gateway (http.server in a thread) with scripted answers.

    `answers`: (status, body) per request in order, the last one repeating; or a function of
    the request dict returning (status, body). Every request is kept in `requests` as
    {"path", "headers", "body", "json"} ("json" is None unless the body was sent as JSON).
    """

    def __init__(self, answers=((200, "ok"),)):
        self.answers = answers if callable(answers) else list(answers)
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                is_json = (self.headers.get("Content-Type") or "").startswith("application/json")
                request = {"path": self.path, "headers": dict(self.headers), "body": body,
                           "json": json.loads(body) if is_json else None}
                gateway.requests.append(request)
                if callable(gateway.answers):
                    status, text = gateway.answers(request)
                else:
                    status, text = gateway.answers[min(len(gateway.requests), len(gateway.answers)) - 1]
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
