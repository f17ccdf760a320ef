"""The API server and credentials a rollout's gate reads from a kubeconfig; what it says never shows a secret."""

import base64
from pathlib import Path

import pytest

from reconciler.live.api_server import ApiServer, KubeconfigError, _in_memory_files, api_server_of, readyz_problem

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN EC PRIVATE KEY-----\nsecret-key-material\n-----END EC PRIVATE KEY-----\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


OVH_STYLE = f"""\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {b64(PEM)}
    server: https://abc123.c1.gra.k8s.ovh.net
  name: prod
contexts:
- context: {{cluster: prod, user: kubernetes-admin-prod}}
  name: kubernetes-admin@prod
current-context: kubernetes-admin@prod
kind: Config
users:
- name: kubernetes-admin-prod
  user:
    client-certificate-data: {b64(PEM)}
    client-key-data: {b64(KEY)}
"""


def test_an_ovhcloud_kubeconfig_gives_the_server_its_ca_and_the_client_certificate():
    server = api_server_of(OVH_STYLE)
    assert server.url == "https://abc123.c1.gra.k8s.ovh.net"
    assert (server.ca, server.certificate, server.key, server.token) == (PEM, PEM, KEY, None)
    assert "secret-key-material" not in repr(server)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not: [valid", "the kubeconfig is not YAML"),
        ("- a list", "the kubeconfig is not a mapping"),
        ("clusters: [{name: a, cluster: {server: ftp://x}}]\nusers: [{name: u, user: {}}]", "not an http(s) URL"),
        (
            OVH_STYLE.replace(b64(KEY), "secret-key-material!"),
            "the kubeconfig's client-key-data is not base64 PEM",
        ),
        # one context that is no mapping: was an AttributeError, an internal error in the rollout's gate
        ("clusters: [{name: a, cluster: {server: 'https://x'}}]\ncontexts: [{name: c, context: 5}]", "names no user"),
    ],
)
def test_an_unusable_kubeconfig_is_said_without_its_content(text, message):
    with pytest.raises(KubeconfigError) as raised:
        api_server_of(text)
    assert message in str(raised.value) and "secret-key-material" not in str(raised.value)


@pytest.mark.parametrize(
    "server",
    [
        ApiServer(url="https://[::1/"),  # ValueError from the URL library
        ApiServer(url="https://127.0.0.1:1", ca="-----BEGIN CERTIFICATE-----\nno\n-----END CERTIFICATE-----\n"),
        ApiServer(url="https://127.0.0.1:1", token="secret-key-material\nX-Injected: 1"),
    ],
    ids=["url", "ca", "token"],
)
def test_a_gate_on_an_unusable_kubeconfig_answer_is_a_failed_gate_not_an_internal_error(server):
    problem = readyz_problem(server, timeout=2)
    assert problem is not None and problem.startswith(("the API server does not answer", "the kubeconfig's server"))
    assert "secret-key-material" not in problem


def test_credentials_for_tls_are_files_that_read_back_and_are_gone_after():
    with _in_memory_files(PEM, KEY) as paths:
        assert [Path(path).read_text() for path in paths] == [PEM, KEY]
    with pytest.raises(OSError):
        Path(paths[1]).read_text()


# A real TLS API server on 127.0.0.1, as OVHcloud's are reached: its CA and a client certificate in the kubeconfig.


def _certificates():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def made(name, issuer_name, issuer_key, key, *, ca=False, ip=None, client=False):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ip:
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False
            )
        if client:
            builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(key):
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = made("test CA", "test CA", ca_key, ca_key, ca=True)
    server = made("apiserver", "test CA", ca_key, server_key, ip="127.0.0.1")
    client = made("kubernetes-admin", "test CA", ca_key, client_key, client=True)
    return ca, (server, key_pem(server_key)), (client, key_pem(client_key))


@pytest.fixture(scope="module")
def tls_api_server(tmp_path_factory):
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    ca, (server_cert, server_key), client = _certificates()
    folder = tmp_path_factory.mktemp("apiserver")
    (folder / "server.pem").write_text(server_cert + server_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    context.verify_mode = ssl.CERT_REQUIRED  # the API server wants the kubeconfig's client certificate
    context.load_verify_locations(cadata=ca)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/readyz" else 404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", ca, client
    httpd.shutdown()


def kubeconfig(url: str, ca: str, client: tuple[str, str] | None) -> str:
    user = (
        f"    client-certificate-data: {b64(client[0])}\n    client-key-data: {b64(client[1])}\n"
        if client
        else "    {}\n"
    )
    return (
        f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\n"
        f"    certificate-authority-data: {b64(ca)}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\n"
        f"current-context: c\nusers:\n- name: u\n  user:\n{user}"
    )


def test_a_tls_api_server_is_asked_with_the_kubeconfigs_ca_and_client_certificate(tls_api_server):
    url, ca, client = tls_api_server
    assert readyz_problem(api_server_of(kubeconfig(url, ca, client))) is None


def test_a_tls_api_server_refused_without_the_client_certificate_or_under_another_ca(tls_api_server):
    url, ca, client = tls_api_server
    other_ca = _certificates()[0]
    assert readyz_problem(api_server_of(kubeconfig(url, ca, None))).startswith("the API server does not answer")
    assert "SSLCertVerificationError" in readyz_problem(api_server_of(kubeconfig(url, other_ca, client)))


class _Recorder:
    """A plain-HTTP server on 127.0.0.1 that answers `status` (with `Location` for a redirect) and keeps each
    request's path and Authorization header."""

    def __init__(self, status: int, location: str | None = None) -> None:
        import http.server
        import threading

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                seen.append((self.path, self.headers.get("Authorization")))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_is_an_answer_never_followed_with_the_token():
    elsewhere = _Recorder(200)
    redirecting = _Recorder(302, location=elsewhere.url + "/readyz")
    try:
        problem = readyz_problem(ApiServer(url=redirecting.url, token="s3cret-token"))
        assert problem == "the API server answered /readyz with 302"
        assert redirecting.seen == [("/readyz", "Bearer s3cret-token")]  # loopback: the token may go
        assert elsewhere.seen == []  # the redirect was not followed
    finally:
        redirecting.close()
        elsewhere.close()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://abc123.c1.gra.k8s.ovh.net", True),
        ("http://127.0.0.1:6443", True),
        ("http://[::1]:6443", True),
        ("http://localhost:6443", True),
        ("http://abc123.c1.gra.k8s.ovh.net", False),
        ("http://10.0.0.7:6443", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_a_token_crosses_a_network_only_encrypted(url, allowed):
    from reconciler.live.api_server import token_may_go_to

    assert token_may_go_to(url) is allowed
