"""The API server and credentials a rollout's gate reads from a kubeconfig; what it says never shows a secret."""

import base64
from pathlib import Path

import pytest

from reconciler.live.api_server import KubeconfigError, _in_memory_files, api_server_of

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
    ],
)
def test_an_unusable_kubeconfig_is_said_without_its_content(text, message):
    with pytest.raises(KubeconfigError) as raised:
        api_server_of(text)
    assert message in str(raised.value) and "secret-key-material" not in str(raised.value)


def test_credentials_for_tls_are_files_that_read_back_and_are_gone_after():
    with _in_memory_files(PEM, KEY) as paths:
        assert [Path(path).read_text() for path in paths] == [PEM, KEY]
    with pytest.raises(OSError):
        Path(paths[1]).read_text()
