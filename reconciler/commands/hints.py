"""Hints for usage errors a Terraform or kubectl user is likely to make."""

import re

_SINGLE_DASH_LONG = re.compile(r"-([A-Za-z][A-Za-z0-9-]+)(=.*)?")


def single_dash_hint(args: list[str]) -> str | None:
    """`-target x` (Terraform's spelling) reads as the short options -t -a -r ...: say the two-dash form."""
    for arg in args:
        if arg == "--":
            break
        match = _SINGLE_DASH_LONG.fullmatch(arg)
        if match:
            return f"hint: long options take two dashes: --{match[1]}, not {arg.split('=', 1)[0]}"
    return None
