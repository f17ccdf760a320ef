"""ClusterDefaults as `validate` and the desired model see them: selection, merge, conflicts, refusals, meaning rules
on the merged result located where each value is written, and the source of every effective value."""

from pathlib import Path

import pytest

from reconciler.files.validate import load_desired

PROJECT = "0123456789abcdef0123456789abcdef"
OTHER_PROJECT = "fedcba9876543210fedcba9876543210"


def cluster(name: str, spec: str = "", project: str = PROJECT, region: str = "GRA7", labels: str = "") -> str:
    label_lines = f"  labels: {labels}\n" if labels else ""
    return (
        f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: {name}\n{label_lines}spec:\n"
        f"  project: {project}\n  region: {region}\n{spec}"
    )


def defaults(name: str, selector: str, spec: str) -> str:
    return (
        f"apiVersion: ovhkube/v1\nkind: ClusterDefaults\nmetadata:\n  name: {name}\nselector: {selector}\nspec:\n{spec}"
    )


def write(tmp_path: Path, name: str, *documents: str) -> str:
    path = tmp_path / name
    path.write_text("---\n".join(documents))
    return str(path)


def load(*paths: str):
    return load_desired(list(paths))


def by_name(loaded) -> dict:
    assert loaded.ok, [str(p) for p in loaded.problems]
    return {c.name: c for c in loaded.clusters}


TUNING = "  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT45S, minSyncPeriod: PT2S}\n"


def test_defaults_fill_in_what_a_cluster_leaves_out_and_the_clusters_own_value_wins(tmp_path):
    base = write(
        tmp_path,
        "base.yaml",
        defaults(
            "base",
            "{}",
            "  kubeProxyMode: iptables\n"
            "  customization:\n"
            "    apiServer: {admissionPlugins: {enabled: [AlwaysPullImages, NodeRestriction]}}\n"
            "    kubeProxy:\n      iptables: {syncPeriod: PT45S, minSyncPeriod: PT2S}\n",
        ),
    )
    fleet = write(
        tmp_path,
        "fleet.yaml",
        cluster("plain"),
        cluster("own-period", "  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT1M}\n"),
        cluster("own-mode", "  kubeProxyMode: ipvs\n"),
        cluster("no-plugins", "  customization:\n    apiServer: {}\n"),
        cluster("own-list", "  customization:\n    apiServer: {admissionPlugins: {enabled: [NodeRestriction]}}\n"),
    )
    clusters = by_name(load(base, fleet))
    full = {
        "apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"]}},
        "kubeProxy": {"iptables": {"syncPeriod": "PT45S", "minSyncPeriod": "PT2S"}},
    }
    assert clusters["plain"].customization == full and clusters["plain"].kube_proxy_mode == "iptables"
    # mappings merge key by key: the cluster's syncPeriod, the defaults' minSyncPeriod
    assert clusters["own-period"].customization["kubeProxy"] == {
        "iptables": {"syncPeriod": "PT1M", "minSyncPeriod": "PT2S"}
    }
    assert clusters["own-mode"].kube_proxy_mode == "ipvs"
    # {} is a value ("no customization"), not an empty merge; a list replaces, it is not merged
    assert clusters["no-plugins"].customization["apiServer"] == {}
    assert clusters["own-list"].customization["apiServer"] == {"admissionPlugins": {"enabled": ["NodeRestriction"]}}
    assert [d.name for d in clusters["plain"].defaults] == ["base"]


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ("{}", ["web-1", "web-2", "api-1", "db-1"]),
        (f"{{projects: [{OTHER_PROJECT}]}}", ["db-1"]),
        ("{regions: [SBG5, BHS5]}", ["web-2", "db-1"]),
        ("{names: ['web-*', 'api-?']}", ["web-1", "web-2", "api-1"]),
        ("{matchLabels: {env: prod}}", ["web-1", "api-1"]),
        ("{matchLabels: {env: prod, tier: front}}", ["web-1"]),
        ("{names: ['web-*'], regions: [GRA7], matchLabels: {env: prod}}", ["web-1"]),
    ],
)
def test_every_criterion_of_a_selector_must_match_and_a_list_matches_any_item(tmp_path, selector, selected):
    base = write(tmp_path, "d.yaml", defaults("d", selector, "  version: '1.30'\n"))
    fleet = write(
        tmp_path,
        "fleet.yaml",
        cluster("web-1", labels="{env: prod, tier: front}"),
        cluster("web-2", region="SBG5", labels="{env: staging, tier: front}"),
        cluster("api-1", labels="{env: prod}"),
        cluster("db-1", project=OTHER_PROJECT, region="BHS5"),
    )
    clusters = by_name(load(base, fleet))
    assert sorted(name for name, c in clusters.items() if c.version == "1.30") == sorted(selected)


def test_two_defaults_setting_one_field_differently_is_an_error_naming_both_places(tmp_path):
    first = write(tmp_path, "a.yaml", defaults("company", "{}", "  kubeProxyMode: iptables\n"))
    second = write(tmp_path, "b.yaml", "# prod\n" + defaults("prod", "{names: [web]}", "  kubeProxyMode: ipvs\n"))
    fleet = write(tmp_path, "fleet.yaml", cluster("web"), cluster("db"))
    loaded = load(first, second, fleet)
    assert [str(p) for p in loaded.problems] == [
        f'{second}:8:18: spec.kubeProxyMode: conflicts with ClusterDefaults "company" at {first}:7, which sets it '
        f'to "iptables"; both select cluster web. Set it in one of them, or make their selectors disjoint'
    ]
    assert loaded.clusters == []


def test_a_conflicting_value_is_quoted_as_every_file_value_is_short_and_on_one_line(tmp_path):
    ranges = ", ".join(f"198.51.100.{n}/32" for n in range(200))
    first = write(tmp_path, "a.yaml", defaults("wide", "{}", f"  ipRestrictions: [{ranges}]\n"))
    second = write(tmp_path, "b.yaml", defaults("narrow", "{}", "  ipRestrictions: [203.0.113.0/24]\n"))
    loaded = load(first, second, write(tmp_path, "fleet.yaml", cluster("web")))
    [problem] = loaded.problems
    assert f'at {first}:7, which sets it to ["198.51.100.0/32", "198.51.100.1/32", "...; both select' in str(problem)
    assert len(str(problem)) < 400


def test_a_value_against_a_mapping_is_a_conflict_and_the_same_value_twice_is_not(tmp_path):
    first = write(tmp_path, "a.yaml", defaults("a", "{}", "  version: '1.31'\n  customization:\n    apiServer: {}\n"))
    second = write(
        tmp_path,
        "b.yaml",
        defaults("b", "{}", "  version: '1.31'\n  customization:\n    apiServer: {admissionPlugins: {enabled: []}}\n"),
    )
    loaded = load(first, second, write(tmp_path, "fleet.yaml", cluster("web")))
    assert [(p.file, p.line, p.path) for p in loaded.problems] == [
        (second, 9, "spec.customization.apiServer.admissionPlugins.enabled")
    ]
    assert f"{first}:9, which sets spec.customization.apiServer to {{}}" in loaded.problems[0].message


@pytest.mark.parametrize(
    ("written", "column", "path"),
    [
        ("  lifecycle: {allowReset: false}\n", 15, "spec.lifecycle.allowReset"),
        ("  lifecycle:\n    allowUpgrade: true\n", 5, "spec.lifecycle.allowUpgrade"),
    ],
)
def test_a_permission_in_defaults_is_refused_at_its_line(tmp_path, written, column, path):
    base = write(tmp_path, "d.yaml", defaults("d", "{}", written))
    loaded = load(base, write(tmp_path, "fleet.yaml", cluster("web")))
    refused = [p for p in loaded.problems if p.message.startswith("a permission is refused in ClusterDefaults")]
    assert [(p.line, p.column, p.path) for p in refused] == [(6 + written.count("\n"), column, path)]


@pytest.mark.parametrize(
    "identity", ["project: " + PROJECT, "region: GRA7", "id: 0b6f7c1e-3d2a-4f5b-9c8d-7e6a5b4c3d21"]
)
def test_identity_is_refused_in_defaults(tmp_path, identity):
    base = write(tmp_path, "d.yaml", defaults("d", "{}", f"  {identity}\n"))
    loaded = load(base, write(tmp_path, "fleet.yaml", cluster("web")))
    assert [(p.line, p.column, p.message.split(",")[0]) for p in loaded.problems] == [(7, 3, "identifies a cluster")]


def test_meaning_rules_run_on_the_merged_result_and_point_at_the_line_that_wrote_the_value(tmp_path):
    base = write(
        tmp_path,
        "d.yaml",
        defaults("d", "{}", "  customization:\n    kubeProxy:\n      iptables:\n        minSyncPeriod: PT40S\n"),
    )
    fleet = write(
        tmp_path,
        "fleet.yaml",
        cluster("long", "  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT1M}\n"),
        cluster("short-1"),
        cluster("short-2", "  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT30S}\n"),
    )
    loaded = load(base, fleet)
    assert sorted(str(p) for p in loaded.problems) == [
        f"{base}:10:24: spec.customization.kubeProxy.iptables.minSyncPeriod: must not be longer than kube-proxy's "
        "default syncPeriod (30s), which applies when syncPeriod is left out; got PT40S (in the effective settings "
        "of cluster short-1)",
        f"{base}:10:24: spec.customization.kubeProxy.iptables.minSyncPeriod: must not be longer than syncPeriod "
        "(PT30S); got PT40S (in the effective settings of cluster short-2)",
    ]


def test_a_selector_that_selects_nothing_is_a_warning(tmp_path):
    base = write(tmp_path, "d.yaml", defaults("d", "{names: [nope-*]}", "  version: '1.31'\n"))
    loaded = load(base, write(tmp_path, "fleet.yaml", cluster("web")))
    assert loaded.ok
    assert [str(p) for p in loaded.warnings] == [
        f"{base}:5:11: warning: selector: selects no cluster document among the files given: these defaults "
        "apply to nothing"
    ]


def test_two_defaults_with_one_name_is_an_error(tmp_path):
    path = write(
        tmp_path, "d.yaml", defaults("d", "{}", "  version: '1.31'\n"), defaults("d", "{}", "  version: '1.31'\n")
    )
    loaded = load(path, write(tmp_path, "fleet.yaml", cluster("web")))
    assert [str(p) for p in loaded.problems] == [
        f'{path}:12:9: metadata.name: ClusterDefaults "d" is already declared at {path}:4'
    ]


def test_every_effective_value_knows_the_line_that_wrote_it(tmp_path):
    base = write(tmp_path, "d.yaml", defaults("base", "{}", TUNING))
    fleet = write(
        tmp_path, "fleet.yaml", cluster("web", "  customization:\n    kubeProxy:\n      iptables: {syncPeriod: PT1M}\n")
    )
    (web,) = load(base, fleet).clusters
    assert web.source_of("customization.kubeProxy.iptables.syncPeriod").source == f"{fleet}:10"
    assert web.source_of("customization.kubeProxy.iptables.syncPeriod").defaults is None
    minimum = web.source_of("customization.kubeProxy.iptables.minSyncPeriod")
    assert (minimum.source, minimum.defaults) == (f"{base}:9", "base")
    assert web.source_of("region").source == f"{fleet}:7"


def test_defaults_alone_are_empty_input_an_error(tmp_path):
    base = write(tmp_path, "d.yaml", defaults("d", "{}", "  version: '1.31'\n"))
    loaded = load(base)
    assert [str(p) for p in loaded.problems] == [
        f"{base}: no Cluster documents, only ClusterDefaults: defaults apply to the cluster documents given with "
        "them; give the files or folder that hold both"
    ]


def test_names_from_files_stay_on_one_line_in_messages(tmp_path):
    first = write(tmp_path, "a.yaml", defaults('"evil\\n\\u001b[31mname"', "{}", "  version: '1.31'\n"))
    second = write(tmp_path, "b.yaml", defaults("other", "{}", "  version: '1.32'\n"))
    # A cluster's own name cannot hold a control character (OVHcloud's naming rules refuse it first).
    loaded = load(first, second, write(tmp_path, "fleet.yaml", cluster("web")))
    (problem,) = loaded.problems
    assert "\n" not in str(problem) and "\x1b" not in str(problem)
    assert 'ClusterDefaults "evil\\n\\u001b[31mname"' in problem.message and "select cluster web." in problem.message


def test_a_selector_whose_cluster_has_an_error_is_not_also_said_to_select_nothing(tmp_path):
    base = write(tmp_path, "d.yaml", defaults("d", "{names: [web]}", "  version: '1.31'\n"))
    fleet = write(tmp_path, "fleet.yaml", cluster("web", "  kubeProxyMode: nftables\n"))
    loaded = load(base, fleet)
    assert [p.path for p in loaded.problems] == ["spec.kubeProxyMode"]
    assert loaded.warnings == []


def test_a_selectors_project_and_region_are_explained_as_such_not_as_durations(tmp_path):
    base = write(tmp_path, "d.yaml", defaults("d", "{projects: [nothex], regions: [GRA7, gra7]}", TUNING))
    loaded = load(base, write(tmp_path, "fleet.yaml", cluster("web")))
    assert [str(p) for p in loaded.problems] == [
        f"{base}:5:23: selector.projects[0]: must be a Public Cloud project id, 32 lowercase hexadecimal characters; "
        'got "nothex"',
        f'{base}:5:48: selector.regions[1]: must be an OVHcloud region in capitals, e.g. GRA5; got "gra7"',
    ]
