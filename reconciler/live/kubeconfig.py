"""A cluster's kubeconfig from OVHcloud: fetched (POST .../kubeconfig) and rotated (POST .../kubeconfig/reset).

The content is a credential: it is returned to the caller, which writes it where the user asked, and never goes
into a log, a plan or a report (the client logs a call's method, path, status and time, never a body).
"""

import re

from reconciler.live.api import ApiClient
from reconciler.steps import kubeconfig_path, kubeconfig_reset_path

# What YAML 1.2 forbids in a stream: C0 controls but tab, LF and CR; DEL; C1 controls but NEL; surrogates, U+FFFE/F.
# A kubeconfig holding one is not YAML, and written to a terminal it could drive it.
_NOT_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


class KubeconfigError(ValueError):
    """The kubeconfig cannot be used; the message shows none of its content."""


def fresh_kubeconfig(api: ApiClient, project: str, cluster_id: str) -> str:
    """A new kubeconfig of the cluster, as text (raises ApiError, or KubeconfigError on an answer without one)."""
    answer = api.post(kubeconfig_path(project, cluster_id))
    if not isinstance(answer, dict) or not isinstance(answer.get("content"), str) or not answer["content"].strip():
        raise KubeconfigError("the API's kubeconfig answer holds no content")
    content = answer["content"]
    bad = _NOT_YAML.search(content)
    if bad:
        line = content.count("\n", 0, bad.start()) + 1
        raise KubeconfigError(
            f"the API's kubeconfig holds a character no YAML file may hold (U+{ord(bad[0]):04X}, line {line}): "
            "nothing was written"
        )
    return content


def reset_kubeconfig(api: ApiClient, project: str, cluster_id: str) -> None:
    """Rotate the cluster's credentials (raises ApiError). Unsafe to repeat: never retried on a guess (the client
    retries no POST); the caller reads the cluster back after an answer that is not clear."""
    api.post(kubeconfig_reset_path(project, cluster_id))
