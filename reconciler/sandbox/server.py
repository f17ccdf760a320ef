"""The sandbox's HTTP server: routing, the order in which faults, authentication and the call happen, and answers
in OVH's shape (JSON bodies, `{"class", "message"}` errors, an X-Ovh-QueryID header).

HTTP/1.1 with keep-alive and one daemon thread per connection (ThreadingHTTPServer), so a client's connection pool
is reused; every answer carries its Content-Length and goes out in one write (no Nagle delay).

The project listing is expanded (full cluster objects, a page at a time) when the request asks with
`X-Pagination-Mode: CachedObjectList-Pages`, as the real API does; `expand_lists=False` answers ids whatever the
headers, like an endpoint without the expanded form. `Pragma: no-cache` is accepted: nothing here is cached.
"""

import contextlib
import itertools
import json
import os
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from reconciler.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from reconciler.sandbox.auth import AuthFailure, authenticate, check_headers
from reconciler.sandbox.clusters import API_SERVER_PREFIX, ApiFailure, Behaviour, Clusters, bad_request, not_found
from reconciler.sandbox.contract import Operation, contract
from reconciler.sandbox.control_plane import ControlPlane
from reconciler.sandbox.faults import BUSY_MESSAGES, FaultOptions, Faults
from reconciler.sandbox.node_pools import NodePools
from reconciler.sandbox.oauth2 import TOKEN_PATH, ServiceAccounts, TokenRefused
from reconciler.sandbox.requestlog import RequestLog
from reconciler.sandbox.state import State

API_PREFIX = "/1.0"
_KUBE = r"/cloud/project/([^/]+)/kube"
# GET /cloud/project/{serviceName}: the project object, whose description plans show; not a kube call, so not in
# the contract (derived from the kube paths of the API description). Its IAM action: publicCloudProject:apiovh:get.
PROJECT_PATH = re.compile(r"/cloud/project/([^/]+)")
PROJECT_IAM = ("publicCloudProject:apiovh:get",)
API_SERVER_PATH = re.compile(API_SERVER_PREFIX + r"/([^/]+)/([^/]+)/readyz")
# path pattern -> {method: the name of the method serving it}; read calls take no body. Every call served is in the
# contract (OVHcloud's API description), which gives its IAM action and the shape of its body and answer.
ROUTES = (
    (re.compile(_KUBE), {"GET": "list_ids", "POST": "create"}),
    (re.compile(_KUBE + r"/([^/]+)"), {"GET": "get", "PUT": "put_cluster", "DELETE": "delete"}),
    (re.compile(_KUBE + r"/([^/]+)/reset"), {"POST": "reset"}),
    (re.compile(_KUBE + r"/([^/]+)/kubeconfig"), {"POST": "kubeconfig"}),
    (re.compile(_KUBE + r"/([^/]+)/kubeconfig/reset"), {"POST": "reset_kubeconfig"}),
    (
        re.compile(_KUBE + r"/([^/]+)/customization"),
        {
            "GET": "get_customization",
            "PUT": "put_customization",
        },
    ),
)
# The control-plane calls, served by ControlPlane.
CONTROL_PLANE_ROUTES = (
    (re.compile(_KUBE + r"/([^/]+)/updatePolicy"), {"PUT": "put_update_policy"}),
    (re.compile(_KUBE + r"/([^/]+)/update"), {"POST": "update"}),
    (re.compile(_KUBE + r"/([^/]+)/updateLoadBalancersSubnetId"), {"PUT": "put_load_balancers_subnet"}),
    (
        re.compile(_KUBE + r"/([^/]+)/privateNetworkConfiguration"),
        {"GET": "get_private_network_configuration", "PUT": "put_private_network_configuration"},
    ),
    (
        re.compile(_KUBE + r"/([^/]+)/ipRestrictions"),
        {
            "GET": "get_ip_restrictions",
            "PUT": "put_ip_restrictions",
            "POST": "post_ip_restrictions",
        },
    ),
    (
        re.compile(_KUBE + r"/([^/]+)/ipRestrictions/([^/]+)"),
        {"DELETE": "delete_ip_restriction"},
    ),
    (
        re.compile(_KUBE + r"/([^/]+)/openIdConnect"),
        {
            "GET": "get_openid_connect",
            "POST": "post_openid_connect",
            "PUT": "put_openid_connect",
            "DELETE": "delete_openid_connect",
        },
    ),
)
# The node pool calls and the cluster's flavors, served by NodePools.
NODE_POOL_ROUTES = (
    (
        re.compile(_KUBE + r"/([^/]+)/nodepool"),
        {"GET": "list_pools", "POST": "create_pool"},
    ),
    (
        re.compile(_KUBE + r"/([^/]+)/nodepool/([^/]+)"),
        {
            "GET": "get_pool",
            "PUT": "put_pool",
            "DELETE": "delete_pool",
        },
    ),
    (re.compile(_KUBE + r"/([^/]+)/nodepool/([^/]+)/nodes"), {"GET": "get_nodes"}),
    (re.compile(_KUBE + r"/([^/]+)/flavors"), {"GET": "get_flavors"}),
    # The flavors a new cluster may have in a region (`?region=`): the project's capabilities.
    (re.compile(r"/cloud/project/([^/]+)/capabilities/kube/flavors"), {"GET": "get_region_flavors"}),
)
_query_ids = itertools.count(1)
MAX_BODY_BYTES = 1024 * 1024  # the largest call ovhkube makes is a few KB; a bigger body is refused unread (413)
EXPANDED_MODE = "CachedObjectList-Pages"  # the X-Pagination-Mode value that asks for full objects


def _page_header(value: str | None, name: str) -> int | None:
    """A pagination header's whole number (>= 1), None when absent; 400 when it is anything else."""
    if value is None:
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise ApiFailure(400, "Client::BadRequest", f"Invalid {name} header: {json.dumps(value)} (a whole number >= 1)")
    return int(value)


def route(method: str, path: str) -> tuple[str, tuple[str, ...]]:
    """The name of the method serving (method, path), and the ids in the path; ApiFailure 404/405 when there is
    none."""
    for pattern, methods in ROUTES + CONTROL_PLANE_ROUTES + NODE_POOL_ROUTES:
        match = pattern.fullmatch(path)
        if match:
            if method not in methods:
                raise ApiFailure(405, "Client::MethodNotAllowed", f"Method {method} is not allowed on {path}")
            return methods[method], tuple(unquote(part) for part in match.groups())
    raise not_found(f"Got an invalid (or empty) URL: {path}")


class _Handler(BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # what a request line too malformed to name one is answered in: a status line
    server_version = "ovhkube-sandbox"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass  # quiet: the client logs its calls

    def parse_request(self) -> bool:
        """A request line of two words ("GET  HTTP/1.1": no path) reads as HTTP/0.9, which has no status line nor
        headers to answer with: a 400, never a handler that fails half-way."""
        if not super().parse_request():
            return False
        if len(self.requestline.split()) != 3 or not self.path.startswith("/"):
            self.close_connection = True
            self.send_error(400, "Bad request line: METHOD /path HTTP/1.1 is expected")
            return False
        return True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        self._expanded = False
        self._operation: Operation | None = None
        self._answer_headers: dict[str, str] = {}
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True  # where the body ends is unknown: this connection cannot be reused
            return self._answer(400, {"class": "Client::BadRequest", "message": "Invalid Content-Length"})
        sandbox: SandboxServer = self.server.sandbox
        if length > MAX_BODY_BYTES:  # refused before a byte of it is read: memory is not the sender's to spend
            self.close_connection = True
            message = f"Request body too large ({length} bytes; at most {MAX_BODY_BYTES})"
            return self._answer(413, {"class": "Client::RequestEntityTooLarge", "message": message})
        if self.path.split("?", 1)[0] == TOKEN_PATH:  # OAuth2: outside /1.0, as OVHcloud serves it
            return self._token(sandbox, method, length)
        api_server = API_SERVER_PATH.fullmatch(self.path.split("?", 1)[0])
        if api_server:  # a cluster's Kubernetes API server, as a kubeconfig names it: not the OVHcloud API
            if method != "GET":
                return self._answer(405, "method not allowed")
            project, cluster_id = (unquote(part) for part in api_server.groups())
            return self._answer(*sandbox.clusters.api_server_ready(project, cluster_id, self.headers["Authorization"]))
        if length > 0 and not self.path.split("?", 1)[0].endswith("/auth/time"):
            try:  # a stranger (unknown keys, no clock, a bad token) is refused before its body is read
                if not self._bearer_client(sandbox):
                    check_headers(sandbox.state, self.headers)
            except AuthFailure as failure:
                self.close_connection = True  # its body is left unread on the connection
                return self._refuse(failure)
        raw_body = self.rfile.read(length).decode("utf-8", "replace") if length > 0 else ""
        sandbox.faults.delay()
        try:
            result = self._execute(sandbox, method, raw_body)
        except AuthFailure as failure:
            return self._refuse(failure)
        except ApiFailure as failure:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            answer: dict[str, object] = {"class": failure.error_class, "message": failure.message}
            if failure.details:
                answer["details"] = failure.details
            return self._answer(failure.status, answer, extra)
        except Exception as exc:  # a fault of the sandbox itself (say, the state file locked past the busy timeout):
            # an OVH-shaped 500 for the client, not a traceback on the server's console and a dropped connection.
            message = f"Internal server error ({type(exc).__name__}: {exc})"
            return self._answer(500, {"class": "Server::InternalServerError", "message": message})
        operation = self._operation if sandbox.check_answers else None
        broken: list[str] = operation.answer_problems(result, self._expanded) if operation is not None else []
        if broken:
            message = f"The sandbox's answer breaks the API's description: {'; '.join(broken)}"
            return self._answer(500, {"class": "Server::InternalServerError", "message": message})
        self._answer(200, result, self._answer_headers)

    def _token(self, sandbox: "SandboxServer", method: str, length: int) -> None:
        if method != "POST":
            return self._answer(405, {"error": "invalid_request", "error_description": "POST only"})
        body = self.rfile.read(min(length, 64 * 1024)).decode("utf-8", "replace") if length > 0 else ""
        try:
            answer = sandbox.service_accounts.issue(self.headers.get("Authorization"), body)
        except TokenRefused as refused:
            return self._answer(refused.status, {"error": refused.error, "error_description": refused.description})
        self._answer(200, answer, {"Cache-Control": "no-store"})

    def _bearer_client(self, sandbox: "SandboxServer") -> str | None:
        """`oauth2:CLIENT_ID` for a request with a valid bearer token (the key its rate limit counts against)."""
        try:
            client = sandbox.service_accounts.client_of(self.headers.get("Authorization"))
        except TokenRefused as refused:
            raise AuthFailure("INVALID_CREDENTIAL", refused.description, status=401) from None
        return f"oauth2:{client}" if client else None

    def _refuse(self, failure: AuthFailure) -> None:
        http_code = f"{failure.status} {HTTPStatus(failure.status).phrase}"
        body = {"errorCode": failure.error_class, "httpCode": http_code, "message": failure.message}
        self._answer(failure.status, body)

    def _execute(self, sandbox: "SandboxServer", method: str, raw_body: str):
        full_path = self.path
        path = full_path.split("?", 1)[0]
        if not path.startswith(API_PREFIX + "/"):
            raise not_found(f"Got an invalid (or empty) URL: {path}")
        path = path[len(API_PREFIX) :]
        if path == "/auth/time":
            if method != "GET":
                raise ApiFailure(405, "Client::MethodNotAllowed", f"Method {method} is not allowed on {path}")
            return int(time.time())
        # Authenticated first: a request anyone can send unsigned, with a client's consumer key in its header,
        # must not spend that client's rate limit.
        consumer = self._bearer_client(sandbox)
        consumer = consumer or authenticate(sandbox.state, self.headers, method, full_path, raw_body)
        retry_after = sandbox.faults.retry_after(consumer)
        if retry_after is not None:
            raise ApiFailure(429, "Client::TooManyRequests", "Too many requests, slow down", retry_after)
        injected = sandbox.faults.injected_error(method)
        if injected and not injected.after_execution:
            raise ApiFailure(injected.status, injected.error_class, injected.message)
        if path == "/cloud/project" and method == "GET":  # the projects these credentials see: all of them here
            return sandbox.state.projects()
        project = PROJECT_PATH.fullmatch(path)
        if project and method == "GET":  # the project object (for its description), outside the kube contract
            return self._project(sandbox, unquote(project[1]))
        serve, ids = route(method, path)
        operation = contract().operation(method, path)
        if operation is None:  # a route outside the description: a fault of the sandbox, not of the client
            raise ApiFailure(500, "Server::InternalServerError", f"{method} {path} is not in the API's description")
        self._operation = operation
        sandbox.clusters.check_open(ids[0])
        refused = sandbox.faults.refused_by(operation.iam)
        if refused:
            raise ApiFailure(403, "Client::Forbidden", "User not granted for this request", details=refused)
        busy = sandbox.faults.busy_class(method)
        if busy:
            message = BUSY_MESSAGES.get(busy, "Conflict")
            raise ApiFailure(409, f"Client::Conflict::{busy}", f"{message} (injected by the sandbox)")
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            raise ApiFailure(400, "Client::BadRequest", "Invalid JSON in the request body") from None
        problems = operation.body_problems(body)
        if problems:
            raise bad_request(problems)
        if serve == "list_ids":
            result = self._listing(sandbox, *ids)
        elif serve == "list_pools":
            result = self._pool_listing(sandbox, *ids)
        elif serve == "get_region_flavors":
            region = parse_qs(urlsplit(self.path).query).get("region", [None])[0]
            result = sandbox.node_pools.get_region_flavors(ids[0], region)
        else:
            operation = (
                getattr(sandbox.clusters, serve, None)
                or getattr(sandbox.control_plane, serve, None)
                or getattr(sandbox.node_pools, serve)
            )
            result = operation(*ids) if method == "GET" else operation(*ids, body)
        if injected:  # the change is committed, yet the client hears an error
            raise ApiFailure(injected.status, injected.error_class, injected.message)
        return result

    def _project(self, sandbox: "SandboxServer", project: str) -> dict:
        sandbox.clusters.check_open(project)
        refused = sandbox.faults.refused_by(PROJECT_IAM)
        if refused:
            raise ApiFailure(403, "Client::Forbidden", "User not granted for this request", details=refused)
        return sandbox.clusters.get_project(project)

    def _listing(self, sandbox: "SandboxServer", project: str) -> list:
        if not sandbox.expand_lists or self.headers.get("X-Pagination-Mode") != EXPANDED_MODE:
            return sandbox.clusters.list_ids(project)
        size = _page_header(self.headers.get("X-Pagination-Size"), "X-Pagination-Size")
        number = _page_header(self.headers.get("X-Pagination-Number"), "X-Pagination-Number") or 1
        page, total = sandbox.clusters.list_objects(project, size, number)
        self._expanded = True
        self._answer_headers["X-Pagination-Elements"] = str(total)
        return page

    def _pool_listing(self, sandbox: "SandboxServer", project: str, cluster_id: str) -> list:
        """Full pool objects (the description's answer) either way; the expanded form a page at a time."""
        if self.headers.get("X-Pagination-Mode") != EXPANDED_MODE:
            return sandbox.node_pools.list_pools(project, cluster_id)[0]
        size = _page_header(self.headers.get("X-Pagination-Size"), "X-Pagination-Size")
        number = _page_header(self.headers.get("X-Pagination-Number"), "X-Pagination-Number") or 1
        page, total = sandbox.node_pools.list_pools(project, cluster_id, size, number)
        self._expanded = True
        self._answer_headers["X-Pagination-Elements"] = str(total)
        return page

    def _answer(self, status: int, body, extra_headers: dict | None = None) -> None:
        log = self.server.sandbox.request_log
        if log is not None:
            path = self.path.split("?", 1)[0]
            log.write(self.command, path.removeprefix(API_PREFIX), status, getattr(self, "_expanded", False))
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Ovh-QueryID", f"SBX.{os.getpid():x}.{next(_query_ids)}")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        # Headers and body in one write.
        self._headers_buffer.append(b"\r\n" + payload)  # type: ignore[attr-defined]
        self.flush_headers()


class _HTTPServer(ThreadingHTTPServer):
    sandbox: "SandboxServer"
    connections: set[socket.socket]
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class SandboxServer:
    """One sandbox over one state file: `start()` serves from a thread, `serve_forever()` from the caller's."""

    def __init__(
        self,
        state_path: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: FaultOptions | None = None,
        behaviour: Behaviour | None = None,
        expand_lists: bool = True,
        request_log: str | Path | None = None,
        service_accounts: dict[str, str] | None = None,  # OAuth2 client id -> secret; default: the sandbox's own
        check_answers: bool = False,
    ):
        """`check_answers`: an answer that breaks the API's description is a 500 naming what breaks it (the tests
        turn it on, so every answer of every test is checked)."""
        self.state = State(state_path)
        self.clusters = Clusters(self.state, behaviour)
        self.control_plane = ControlPlane(self.clusters)
        self.node_pools = NodePools(self.clusters)
        self.faults = Faults(faults or FaultOptions())
        self.clusters.failed_upgrades = frozenset(self.faults.options.failed_upgrades)
        self.clusters.unready_api_servers = frozenset(self.faults.options.unready_api_servers)
        self.expand_lists = expand_lists
        self.check_answers = check_answers
        self.request_log = RequestLog(request_log) if request_log else None
        self.service_accounts = ServiceAccounts(service_accounts or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self
        self.clusters.base_url = self.url.removesuffix(API_PREFIX)
        self._httpd.connections = set()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{API_PREFIX}"

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self.serve_forever, name="ovhkube-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Stop accepting, close the open keep-alive connections (their threads end), release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        for connection in list(self._httpd.connections):
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self.request_log is not None:
            self.request_log.close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
