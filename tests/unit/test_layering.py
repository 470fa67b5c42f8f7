"""`functions` is importable in AWS Lambda: it never imports the runner or Playwright (DESIGN.md §2).
Jobs on the runner's queues are referenced by dotted path strings instead."""

from __future__ import annotations

import ast
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
FORBIDDEN = ("runner", "playwright")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_functions_never_imports_the_runner_or_playwright() -> None:
    offenders = {
        f"{path.relative_to(FUNCTIONS.parent)}: {name}"
        for path in FUNCTIONS.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_the_core_knows_no_flask_boto3_or_redis() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in (FUNCTIONS / "core").rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in {"flask", "boto3", "botocore", "redis", "rq"}
    }
    assert offenders == set()
