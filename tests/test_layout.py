"""The layout's rules, kept by tests (see docs/architecture.md):
- nothing outside commands/ and cli.py (the engine, the leaves, the sandbox) imports the CLI framework: the engine
  raises UserError, returns values, and paints through reconciler.paint;
- only live/client.py (HTTP) and commands/connect.py (endpoint resolution) import ovh or requests when loaded, so a
  command that needs no API (validate, schema, --version) starts without them (test_validate_cli checks the
  modules such a start loads);
- importing the whole engine loads none of them (no engine module imports the client at module level).
The sandbox's own rule is in test_sandbox_independence."""

import ast
import subprocess
import sys
from pathlib import Path

from test_sandbox_independence import imported_modules

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
ENGINE = ("files/", "live/read.py", "plan/", "apply/", "drift/", "export/")
ENGINE_LEAVES = ("model.py", "errors.py", "durations.py", "paint.py")
CLI_FRAMEWORK = ("typer", "click", "rich")
API_CLIENT = ("ovh", "requests")
MAY_LOAD_THE_API_CLIENT = {"live/client.py", "commands/connect.py"}


def engine_files() -> list[Path]:
    found = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).as_posix().startswith(ENGINE)]
    return sorted(found + [PACKAGE / leaf for leaf in ENGINE_LEAVES])


def _top(module: str) -> str:
    return module.split(".")[0]


def imported_when_loaded(path: Path) -> set[str]:
    """Modules a file imports as it is loaded: at module level and in class bodies, not inside functions."""
    modules: set[str] = set()
    pending = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return modules


def test_nothing_outside_the_commands_imports_the_cli_framework():
    outside = [
        p for p in PACKAGE.rglob("*.py") if not p.relative_to(PACKAGE).as_posix().startswith(("commands/", "cli.py"))
    ]
    assert set(engine_files()) <= set(outside) and len(outside) > 40
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sorted(outside)
        for module in sorted(imported_modules(path))
        if _top(module) in CLI_FRAMEWORK
    ]
    assert offenders == []


def test_only_the_client_and_connect_load_ovh_or_requests():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in MAY_LOAD_THE_API_CLIENT:
            offenders += [f"{relative} imports {m}" for m in imported_when_loaded(path) if _top(m) in API_CLIENT]
    assert offenders == []


def test_the_whole_engine_loads_without_the_api_client_or_the_cli_framework():
    names = [
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in engine_files()
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(API_CLIENT + CLI_FRAMEWORK)!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_the_rules_see_what_they_must(tmp_path):
    source = tmp_path / "mixed.py"
    source.write_text("import json\nclass A:\n    import ovh\ndef f():\n    import requests\n")
    assert imported_when_loaded(source) == {"json", "ovh"}  # a lazy import in a function is allowed
