"""Meaning rules of the control-plane settings (ipRestrictions, openIdConnect, upgrades), checked offline.

The schema checks shapes; these check what a shape cannot say: a CIDR that parses, an https issuer, a CA that is
base64 of a PEM certificate, claims written key=value, and OIDC either disabled or complete.
"""

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

from reconciler.files.problem import shown

PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
# What a host name may hold as Go's URL parser reads it (the API server's): letters, digits, "-._~", the sub-delims,
# and any non-ASCII letter (an internationalised name).
_HOST = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=\u0080-\U0010ffff]+")


def cidr_problem(text: str) -> str | None:
    """Why `text` is not an IP range the allow-list takes; None when it is one."""
    if "%" in text:  # Python reads fe80::1%eth0 as an address with a scope; the API server's allow-list has none
        zone = "an IPv6 zone index (%...) names an interface of one machine, not a range the API server can match"
        return f"{zone}; got {shown(text)}"
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
    """Why the API server would refuse `url` as its OIDC issuer; None when it takes it. Kubernetes' rules
    (k8s.io/apiserver, apis/apiserver/validation: validateURL): it parses as a URL, https, no username or
    password, no query, no fragment; parsing refuses control characters, a space or another character no host
    name holds, and a port that is not a number. A port outside 1-65535 can never be reached, so it is refused too.
    The URL is never shown with its userinfo: a password in it is never printed."""
    got = f"got {shown(url)}"  # shown() leaves any user:password@ out
    if any(not char.isprintable() or char.isspace() for char in url):
        return f"must not contain spaces or control characters; {got}"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "https://[::1"
        return f"is not a URL; {got}"
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return f"has an invalid port (a port is a number from 1 to 65535); {got}"
    if parts.scheme != "https":
        return f"must be an https URL (the API server fetches the issuer's keys over TLS); {got}"
    if "@" in parts.netloc:
        return f"must not contain a username or password (Kubernetes refuses it; a secret has no place in a URL); {got}"
    if not parts.hostname:
        return f"has no host; {got}"
    if not parts.netloc.startswith("[") and not _HOST.fullmatch(parts.hostname):
        return f"has a character no host name holds; {got}"
    if port == 0:
        return f"has an invalid port (a port is a number from 1 to 65535); {got}"
    if parts.query:
        return f"must not contain a query (?...): Kubernetes refuses it; {got}"
    if parts.fragment:
        return f"must not contain a fragment (#...): Kubernetes refuses it; {got}"
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
