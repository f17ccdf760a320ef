"""A real HTTP gateway in front of a sandbox that loses answers on purpose, as a load balancer that times out does.

Each rule maps (METHOD, path suffix) to a queue of faults, used one per matching request:
- "after": the request reaches the sandbox (the change is made), then the client gets a 502;
- "before": the client gets a 502 and the sandbox never sees the request;
- "refused": the client gets a 400 Client::BadRequest (an answer: nothing to retry) and the sandbox never sees it;
- "vanished": the client gets a 404 Client::NotFound (deleted meanwhile) and the sandbox never sees it;
- "not_granted": the client gets the API's 403 NOT_GRANTED_CALL (the consumer key's access rules lack the call);
- "garbled": the request reaches the sandbox (the change is made), then the client gets a 200 with an HTML page;
- "after_unavailable": as "after", but a 503 saying to come back in an hour (Retry-After: 3600), past any retry
  budget: even a PUT, which the client retries otherwise, ends with no clear answer;
- "busy": the client gets the API's 409 Client::Conflict::ServiceOnlyOneModification and the sandbox never sees
  the request: a cluster busy with another change;
- "dropped": the client gets a 200 with an empty answer (`null`, as the API answers a PUT of IP restrictions) and
  the sandbox never sees the request: an API that accepts a change and then loses it;
- "path_in_id": the request reaches the sandbox, and the "id" of its answer gets "../" in front: an answer whose id
  would climb out of the cluster's path if it were put in one;
- a function (status, payload bytes) -> (status, payload bytes[, headers]): the request reaches the sandbox, and its
  answer is rewritten (an answer of another shape than the API describes), with those answer headers if given (a
  Content-Length other than the body's closes the connection after it);
- "endless": the request reaches the sandbox, and the client gets a 200 whose body never ends (1 MiB chunks, no
  length, up to ENDLESS_MIB): `streamed` counts the bytes the client took before it hung up;
- None: forwarded normally.
The Host header is kept, so the sandbox checks the signature the client made for the gateway's URL.
"""

import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

GARBLED = b"<html><body>Thank you for your patience</body></html>"
BAD_GATEWAY = b'{"class": "Server::BadGateway", "message": "Bad gateway (lost by the test gateway)"}'
UNAVAILABLE = b'{"class": "Server::ServiceUnavailable", "message": "Come back later (the test gateway)"}'
ANSWERS = {
    "refused": (400, b'{"class": "Client::BadRequest", "message": "Refused by the test gateway"}'),
    "vanished": (404, b'{"class": "Client::NotFound", "message": "This service does not exist"}'),
    "not_granted": (
        403,
        b'{"errorCode": "NOT_GRANTED_CALL", "httpCode": "403 Forbidden", "message": "This call has not been granted"}',
    ),
    "dropped": (200, b"null"),
    "busy": (
        409,
        b'{"class": "Client::Conflict::ServiceOnlyOneModification", '
        b'"message": "You can only ask for one modification at a time"}',
    ),
}


ENDLESS_MIB = 400


class LossyGateway:
    def __init__(self, upstream_url: str, rules: dict[tuple[str, str], list[str | None]]):
        upstream = urlsplit(upstream_url)
        self.upstream = (upstream.hostname, upstream.port)
        self.rules = {key: list(faults) for key, faults in rules.items()}
        self.lost: list[tuple[str, str, str]] = []  # (method, path, fault) of every answer lost
        self.forwarded: list[tuple[str, str]] = []  # (method, path) of every request the sandbox received
        self.streamed = 0  # bytes of "endless" bodies the client read
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                gateway.serve(self, "GET")

            def do_POST(self):
                gateway.serve(self, "POST")

            def do_PUT(self):
                gateway.serve(self, "PUT")

            def do_DELETE(self):
                gateway.serve(self, "DELETE")

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{upstream.path}"

    def _next_fault(self, method: str, path: str):
        with self._lock:
            for (rule_method, suffix), faults in self.rules.items():
                if rule_method == method and path.endswith(suffix) and faults:
                    fault = faults.pop(0)
                    if fault:
                        self.lost.append((method, path, getattr(fault, "__name__", fault)))
                    return fault
        return None

    def serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        fault = self._next_fault(method, handler.path)
        if fault not in ("before", *ANSWERS):
            with self._lock:
                self.forwarded.append((method, handler.path))
            connection = http.client.HTTPConnection(*self.upstream, timeout=30)
            connection.request(method, handler.path, body=body, headers=dict(handler.headers))
            response = connection.getresponse()
            status, payload = response.status, response.read()
            connection.close()
        headers = {"Content-Type": "application/json"}
        if fault == "endless":
            self._endless(handler)
            return
        if callable(fault):
            status, payload, *more = fault(status, payload)
            headers |= more[0] if more else {}
        elif fault == "garbled":
            status, payload = 200, GARBLED
        elif fault == "path_in_id":
            answer = json.loads(payload)
            payload = json.dumps(answer | {"id": f"../{answer['id']}"}).encode()
        elif fault == "after_unavailable":
            status, payload, headers["Retry-After"] = 503, UNAVAILABLE, "3600"
        elif fault:
            status, payload = ANSWERS.get(fault, (502, BAD_GATEWAY))
        handler.send_response(status)
        headers.setdefault("Content-Length", str(len(payload)))
        if headers["Content-Length"] != str(len(payload)):  # a length that lies: the body ends with the connection
            headers["Connection"] = "close"
            handler.close_connection = True
        for name, header in headers.items():
            handler.send_header(name, header)
        handler.end_headers()
        handler.wfile.write(payload)

    def _endless(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b"[" + b" " * (2**20 - 1)
        try:
            for _ in range(ENDLESS_MIB):
                handler.wfile.write(chunk)
                with self._lock:
                    self.streamed += len(chunk)
        except OSError:  # the client hung up
            pass
        handler.close_connection = True

    def count(self, method: str, suffix: str) -> int:
        """Requests the sandbox received (not merely the client sent) matching the method and path suffix."""
        with self._lock:
            return sum(1 for m, path in self.forwarded if m == method and path.endswith(suffix))

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that stopped (a signal, a timeout) before its answer was written is what some tests do.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
