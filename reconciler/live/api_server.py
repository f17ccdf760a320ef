"""A cluster's Kubernetes API server asked whether it is ready (GET /readyz), through a fresh kubeconfig.

A rollout's health gate with `gate.apiServer: true` asks OVHcloud for a kubeconfig (POST .../kubeconfig: a new
one each time, so a reset cluster's new credentials are used) and reads from it the API server's URL, its CA and
the user's credentials (a token, or a client certificate and key). None of it is printed or written to disk: the
CA is given to TLS as text, and a client certificate and key, which Python's TLS takes only as files, go through
anonymous in-memory files (memfd, Linux) or, elsewhere, a private temporary folder removed at once.
Kubernetes' own health endpoint: https://kubernetes.io/docs/reference/using-api/health-checks/
"""

import base64
import binascii
import ipaddress
import os
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.live.kubeconfig import KubeconfigError

READYZ_TIMEOUT_SECONDS = 1.0  # per request: a stop is seen within a second; the gate asks again until its timeout


@dataclass(frozen=True, repr=False)  # repr=False: a credential never lands in a log or a traceback
class ApiServer:
    url: str
    ca: str | None = None  # PEM
    token: str | None = None
    certificate: str | None = None  # PEM, with `key`
    key: str | None = None


def _named(entries: Any, name: Any, what: str) -> dict:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(what), dict):
            return entry[what]
    if isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], dict):
        found = entries[0].get(what)  # a kubeconfig of one cluster and one user needs no context to pick them
        return found if isinstance(found, dict) else {}
    raise KubeconfigError(f"the kubeconfig names no {what} for its current context")


def _pem(data: Any, what: str) -> str | None:
    if data is None:
        return None
    try:
        return base64.b64decode(str(data), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise KubeconfigError(f"the kubeconfig's {what} is not base64 PEM") from None


def api_server_of(kubeconfig: str) -> ApiServer:
    """The current context's API server and credentials."""
    try:
        config = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        raise KubeconfigError("the kubeconfig is not YAML") from None
    if not isinstance(config, dict):
        raise KubeconfigError("the kubeconfig is not a mapping")
    contexts = config.get("contexts")
    current = config.get("current-context")
    context = _named(contexts, current, "context") if contexts else {}
    cluster = _named(config.get("clusters"), context.get("cluster"), "cluster")
    user = _named(config.get("users"), context.get("user"), "user")
    url = cluster.get("server")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise KubeconfigError("the kubeconfig's server is not an http(s) URL")
    return ApiServer(
        url=url,
        ca=_pem(cluster.get("certificate-authority-data"), "certificate-authority-data"),
        token=user.get("token") if isinstance(user.get("token"), str) else None,
        certificate=_pem(user.get("client-certificate-data"), "client-certificate-data"),
        key=_pem(user.get("client-key-data"), "client-key-data"),
    )


@contextmanager
def _in_memory_files(*texts: str) -> Iterator[list[str]]:
    """Paths that read as these texts, for an API that takes only files: never on disk where memfd exists."""
    if hasattr(os, "memfd_create"):
        fds = []
        try:
            for text in texts:
                fd = os.memfd_create("ovhkube-kube-credential")
                fds.append(fd)
                os.write(fd, text.encode("ascii"))
            yield [f"/proc/self/fd/{fd}" for fd in fds]
        finally:
            for fd in fds:
                os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="ovhkube-") as folder:  # mode 0700, removed on the way out
        paths = [os.path.join(folder, f"{number}.pem") for number in range(len(texts))]
        for path, text in zip(paths, texts, strict=True):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(text)
        yield paths


def token_may_go_to(url: str) -> bool:
    """A token never crosses a network in clear: over https, or over http to this machine only."""
    if url.startswith("https://"):
        return True
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx), never followed: the credentials would go with the request elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def readyz_problem(server: ApiServer, timeout: float = READYZ_TIMEOUT_SECONDS) -> str | None:
    """None when the API server answers /readyz with 200; else what it answered, in words (no credential)."""
    try:  # all of it from the API's kubeconfig: a URL, a CA or a token that is no such thing is an answer too
        request = urllib.request.Request(server.url.rstrip("/") + "/readyz", method="GET")
        if server.token and token_may_go_to(server.url):
            request.add_header("Authorization", f"Bearer {server.token}")
        context = ssl.create_default_context(cadata=server.ca) if server.ca else ssl.create_default_context()
        if server.certificate and server.key:
            with _in_memory_files(server.certificate, server.key) as (certificate, key):
                context.load_cert_chain(certificate, key)
        opener = urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))
        with opener.open(request, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        return f"the API server answered /readyz with {exc.code}"
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"the API server does not answer /readyz ({type(reason).__name__})"
    except ValueError:  # a URL or a header value the HTTP library refuses (said without it: it may hold the token)
        return "the kubeconfig's server URL or credentials cannot be used to ask /readyz"
    return None if status == 200 else f"the API server answered /readyz with {status}"
