"""`ovhkube access-rules`: the consumer-key access rules ovhkube needs, to create a least-privilege key."""

import json

import typer


def access_rules(
    read_only: bool = typer.Option(
        False, "--read-only", help="Only what plan, drift, export and validate need (GET): for PR plans and drift."
    ),
    project: list[str] = typer.Option(
        None, "--project", metavar="PROJECT", help="Only this Public Cloud project; repeatable."
    ),
) -> None:
    """Print the OVHcloud consumer-key access rules ovhkube needs, as the JSON body of POST /auth/credential."""
    from reconciler.commands.options import check_project
    from reconciler.live.access import access_rules as rules

    for name in project or []:
        check_project(name)
    print(json.dumps({"accessRules": rules(read_only, project)}, indent=2))
