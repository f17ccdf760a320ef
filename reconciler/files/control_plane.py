"""Meaning rules of the control-plane settings (ipRestrictions, openIdConnect, upgrades), checked offline.

The schema checks shapes; these check what a shape cannot say: a CIDR that parses, an https issuer, a CA that is
base64 of a PEM certificate, claims written key=value, and OIDC either disabled or complete.
"""

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from reconciler.files.problem import shown

PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def cidr_problem(text: str) -> str | None:
    """Why `text` is not an IP range the allow-list takes; None when it is one."""
    try:
        ipaddress.ip_network(text, strict=True)
        return None
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"not an IP range in CIDR notation (e.g. 203.0.113.0/24) or an address; got {shown(text)}"
    return f"has host bits set: the range {text} is {loose.with_prefixlen}; write that"


def issuer_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "https://[::1"
        return f"is not a URL; got {shown(url)}"
    if parts.scheme != "https":
        return f"must be an https URL (the API server fetches the issuer's keys over TLS); got {shown(url)}"
    if not parts.hostname:
        return f"has no host; got {shown(url)}"
    return None


def ca_problem(text: str) -> str | None:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "must be the CA certificate in PEM, base64-encoded (e.g. base64 -w0 ca.pem); it is not base64"
    if PEM_BEGIN not in decoded:
        return "must be a PEM certificate, base64-encoded: the decoded text holds no '-----BEGIN CERTIFICATE-----'"
    return None


def claim_problem(text: str) -> str | None:
    key, equals, _ = text.partition("=")
    if not equals or not key:
        return f"must be written key=value; got {shown(text)}"
    return None


def oidc_problems(oidc: dict) -> list[tuple[tuple, str]]:
    """(path under openIdConnect, message) for each problem of a well-typed openIdConnect mapping."""
    problems: list[tuple[tuple, str]] = []
    if oidc.get("enabled") is False:
        others = [name for name in oidc if name != "enabled"]
        problems += [((name,), "must not be set when enabled is false (OIDC is then removed)") for name in others]
        return problems
    for name in ("issuerUrl", "clientId"):
        if name not in oidc:
            problems.append(((), f"{name} is required (or write enabled: false to enforce no OIDC)"))
    checks = {"issuerUrl": issuer_problem, "caContent": ca_problem}
    for name, check in checks.items():
        value = oidc.get(name)
        message = check(value) if isinstance(value, str) else None
        if message:
            problems.append(((name,), message))
    claims = oidc.get("requiredClaim")
    for index, claim in enumerate(claims if isinstance(claims, list) else []):
        message = claim_problem(claim) if isinstance(claim, str) else None
        if message:
            problems.append((("requiredClaim", index), message))
    return problems
