"""The sandbox is an independent oracle of the OVHcloud API: it keeps its own copy of the API's facts and never
imports the engine (a sandbox checking requests with the client's own rules could not catch the client's mistakes).
The engine reaches the sandbox only where it starts or drives one: commands/connect.py and commands/sandbox.py."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
ENGINE_MODULES_ALLOWED_TO_USE_THE_SANDBOX = {"commands/connect.py", "commands/sandbox.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _ours(module: str) -> bool:
    return module == "reconciler" or module.startswith("reconciler.")


def test_the_sandbox_imports_nothing_of_the_engine():
    offenders = []
    for path in sorted((PACKAGE / "sandbox").rglob("*.py")):
        for module in sorted(imported_modules(path)):
            if _ours(module) and module != "reconciler.sandbox" and not module.startswith("reconciler.sandbox."):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []


def test_the_engine_uses_the_sandbox_only_to_start_or_drive_one():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("sandbox/") or relative in ENGINE_MODULES_ALLOWED_TO_USE_THE_SANDBOX:
            continue
        for module in sorted(imported_modules(path)):
            if module == "reconciler.sandbox" or module.startswith("reconciler.sandbox."):
                offenders.append(f"{relative} imports {module}")
    assert offenders == []


def test_the_rule_sees_lazy_imports(tmp_path):
    # The rule must see an import hidden in a function, or it could pass while the sandbox uses the engine.
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from reconciler.model import KUBE_PROXY_MODES\n    import reconciler.durations\n")
    assert {"reconciler.model", "reconciler.durations"} <= imported_modules(source)
