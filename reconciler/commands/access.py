"""`ovhkube access-rules`: the consumer-key access rules ovhkube needs, to create a least-privilege key; or, with
--iam-policy, the IAM policy a service account (OAuth2) needs."""

import json
import re

import typer


def access_rules(
    read_only: bool = typer.Option(
        False, "--read-only", help="Only what plan, drift, export and validate need (GET): for PR plans and drift."
    ),
    project: list[str] = typer.Option(
        None, "--project", metavar="PROJECT", help="Only this Public Cloud project; repeatable."
    ),
    iam_policy: bool = typer.Option(
        False, "--iam-policy", help="The IAM policy for an OAuth2 service account instead (POST /v2/iam/policy)."
    ),
    identity: list[str] = typer.Option(
        None,
        "--identity",
        metavar="URN",
        help="With --iam-policy: the service account, urn:v1:eu:identity:credential:ACCOUNT/oauth2-CLIENT_ID; "
        "repeatable.",
    ),
) -> None:
    """Print the OVHcloud consumer-key access rules ovhkube needs, as the JSON body of POST /auth/credential; with
    --iam-policy, the IAM policy (actions and resources) for a service account, as the body of POST /v2/iam/policy."""
    from reconciler.commands.options import check_project
    from reconciler.errors import UserError
    from reconciler.escape import one_line
    from reconciler.live.access import access_rules as rules
    from reconciler.live.access import iam_policy as policy

    for name in project or []:
        check_project(name)
    if identity and not iam_policy:
        raise UserError("--identity names the service account of an IAM policy: give --iam-policy too")
    if not iam_policy:
        print(json.dumps({"accessRules": rules(read_only, project)}, indent=2))
        return
    regions = set()
    for urn in identity or []:
        match = IDENTITY.fullmatch(urn)
        if not match:
            raise UserError(
                f"--identity {one_line(urn)}: a service account's URN is urn:v1:eu:identity:credential:"
                "ACCOUNT/oauth2-CLIENT_ID (eu or ca; GET /me/api/oauth2/client/ID gives it)"
            )
        regions.add(match[1])
    if len(regions) > 1:
        raise UserError("--identity: one policy per region (eu, ca): these identities are in both")
    print(json.dumps(policy(read_only, project, list(identity or []), regions.pop() if regions else "eu"), indent=2))


IDENTITY = re.compile(r"urn:v1:(eu|ca|us):identity:credential:[A-Za-z0-9._-]+/oauth2-[A-Za-z0-9._-]+")
