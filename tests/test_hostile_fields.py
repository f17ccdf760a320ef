"""Hostile values in the newer fields (maintenance windows, renames, the private network, Rollout, Account): each is
one line at its FILE:LINE naming the field and saying what the field wants, exit 1, never a traceback."""

import pytest

from reconciler.cli import main

PROJECT = "0123456789abcdef0123456789abcdef"


def validate(tmp_path, capsys, text: str) -> tuple[int, list[str]]:
    (tmp_path / "c.yaml").write_text(text)
    code = main(["validate", str(tmp_path)])
    captured = capsys.readouterr()
    return code, [line.replace(str(tmp_path) + "/", "") for line in (captured.out + captured.err).splitlines()]


def cluster(extra: str = "", metadata: str = "") -> str:
    return (
        f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: a\n{metadata}"
        f"spec:\n  project: {PROJECT}\n  region: GRA7\n{extra}"
    )


def window(zone: str) -> str:
    return cluster(
        f'  lifecycle:\n    maintenanceWindow: {{days: [Sat], start: "02:00", duration: PT4H, timeZone: {zone}}}\n'
    )


@pytest.mark.parametrize(
    "zone, shown",
    [
        ("A" * 5000, '"' + "A" * 20),  # past the file system's name limit: was an internal error (OSError)
        ("Europe", '"Europe"'),  # a folder of the zone database: was an internal error (IsADirectoryError)
        ("localtime", '"localtime"'),  # the machine's own zone: another hour on a laptop than on the CI runner
        ("zone.tab", '"zone.tab"'),
    ],
)
def test_a_time_zone_that_is_no_iana_name_is_one_line_at_its_field(tmp_path, capsys, zone, shown):
    code, lines = validate(tmp_path, capsys, window(zone))
    assert code == 1
    assert lines[0].startswith("c.yaml:9:")
    assert "spec.lifecycle.maintenanceWindow.timeZone: unknown time zone " + shown in lines[0]
    assert len(lines[0]) < 300
    assert not [line for line in lines if "internal error" in line or "Traceback" in line]


def test_a_real_zone_is_still_valid(tmp_path, capsys):
    code, lines = validate(tmp_path, capsys, window("America/Argentina/Buenos_Aires"))
    assert code == 0, lines


@pytest.mark.parametrize(
    "text, where, field, says",
    [
        (
            cluster(metadata='  renamedFrom: "x\\e]0;pwned\\a"\n'),
            "c.yaml:5:",
            "metadata.renamedFrom",
            "must be a cluster name (the cluster's name now): letters, digits, - and _, a letter first, a letter or "
            'digit last, 64 characters at most; got "x\\u001b]0;pwned\\u0007"',
        ),
        (
            cluster('  privateNetwork: {id: "net 1"}\n'),
            "c.yaml:8:",
            "spec.privateNetwork.id",
            'must be a private network id: letters, digits and -; got "net 1"',
        ),
        (
            cluster('  privateNetwork: {id: net-1, nodesSubnetId: "6F3C"}\n'),
            "c.yaml:8:",
            "spec.privateNetwork.nodesSubnetId",
            'must be a subnet id in lowercase UUID form; got "6F3C"',
        ),
        (
            cluster()
            + "---\napiVersion: ovhkube/v1\nkind: Rollout\nmetadata: {name: fleet}\nspec:\n  waves:\n"
            + '    - {name: "<b>canary</b>", selector: {}, maxInFlight: 1}\n',
            "c.yaml:14:",
            "spec.waves[0].name",
            "must be a wave name: letters, digits, _, . and -, a letter or digit first, 63 at most; "
            'got "<b>canary</b>"',
        ),
        (
            cluster()
            + '---\napiVersion: ovhkube/v1\nkind: Account\nmetadata: {name: "eu rope"}\n'
            + f"spec: {{endpoint: ovh-eu, projects: [{PROJECT}], credentials: {{configSection: eu}}}}\n",
            "c.yaml:11:",
            "metadata.name",
            'must be an account name: letters, digits, - and _, a letter first, 64 at most; got "eu rope"',
        ),
    ],
    ids=["renamedFrom", "privateNetwork.id", "nodesSubnetId", "wave name", "account name"],
)
def test_a_malformed_name_or_id_says_what_that_field_wants(tmp_path, capsys, text, where, field, says):
    code, lines = validate(tmp_path, capsys, text)
    assert code == 1
    [line] = [line for line in lines if field + ":" in line]
    assert line.startswith(where), line
    assert line.endswith(f"{field}: {says}"), line
    assert "ISO 8601 duration" not in line


def test_a_pause_or_gate_of_years_is_refused_before_any_wave_starts(tmp_path, capsys):
    # P99999999999999D passed validation and stopped apply with an internal error (OverflowError) after the
    # first wave's changes were made.
    text = (
        cluster()
        + "---\napiVersion: ovhkube/v1\nkind: Rollout\nmetadata: {name: fleet}\nspec:\n"
        + "  gate: {timeout: P99999999999999D}\n  waves:\n"
        + "    - {name: canary, selector: {}, maxInFlight: 1, pauseAfter: P8D}\n"
        + "    - {name: rest, selector: {}, maxInFlight: 1, pauseAfter: P7D}\n"
    )
    code, lines = validate(tmp_path, capsys, text)
    assert code == 1
    assert [line for line in lines if "P7D" in line and "must be" in line] == [
        "c.yaml:13:19: spec.gate.timeout: must be at most P7D; got P99999999999999D",
        "c.yaml:15:64: spec.waves[0].pauseAfter: must be at most P7D; got P8D",
    ]


@pytest.mark.parametrize(
    "url, why",
    [
        ("https://[::1/1.0", "is not a URL (Invalid IPv6 URL)"),  # was an internal error (ValueError)
        ("https://x\\e[2J.example/1.0", "holds control characters"),  # was an internal error too
        ("https://api.example:99999/1.0", "is not a URL (Port out of range 0-65535)"),  # was 10 s of retries
        ("https:///1.0", "names no host"),
    ],
)
def test_an_endpoint_url_that_cannot_be_reached_is_said_before_any_request(tmp_path, capsys, url, why):
    account = (
        f'---\napiVersion: ovhkube/v1\nkind: Account\nmetadata: {{name: eu}}\nspec:\n  endpoint: "{url}"\n'
        f"  projects: [{PROJECT}]\n  credentials: {{configSection: eu}}\n"
    )
    code, lines = validate(tmp_path, capsys, cluster() + account)
    assert code == 1
    assert lines[0].startswith("c.yaml:13:13: spec.endpoint: the endpoint URL " + why + "; got "), lines
    assert "\x1b" not in "".join(lines)

    (tmp_path / "c.yaml").write_text(cluster())  # the same URL as --endpoint
    written = url.replace("\\e", "\x1b")
    code = main(["--endpoint", written, "plan", str(tmp_path / "c.yaml")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and error[-1].startswith("error: the endpoint ") and why in error[-1], error
    assert "\x1b" not in error[-1] and "internal error" not in error[-1]


def test_a_node_count_past_a_64_bit_integer_is_refused_at_its_line(tmp_path, capsys):
    # It was planned and sent; the sandbox's store could not hold it and answered 500 until the apply gave up.
    pools = (
        "  nodePools:\n    w1: {flavorName: b3-8, desiredNodes: 99999999999999999999, maxNodes: 9223372036854775807}\n"
    )
    code, lines = validate(tmp_path, capsys, cluster(pools))
    assert code == 1
    assert lines[0] == (
        "c.yaml:9:42: spec.nodePools.w1.desiredNodes: must be at most 9223372036854775807 (a 64-bit integer); "
        "got 99999999999999999999"
    )
    assert len([line for line in lines if "must be" in line]) == 1
