"""The project's real entry points, read from the project itself, for checking deployment files against.

- `openwa` commands: argv lists parsed by the click command tree of `functions.cli.main` (unknown commands,
  options or bad values raise `click.UsageError`); the console script name comes from pyproject.toml.
- environment variable names: the fields of `functions.config.Settings` (and their aliases), plus the few
  variables read outside it, each tied to the file that reads it.
- pyproject pins, for comparing requirement lists with.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

import click
from pydantic import AliasChoices

from functions.cli.main import cli
from functions.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"

# Variables our processes read that are not settings, with the file whose code reads each: a name stays
# allowed only while that file still mentions it.
OTHER_ENV_READERS = {
    "WEB_CONCURRENCY": "functions/cli/gunicorn_conf.py",
    "GUNICORN_THREADS": "functions/cli/gunicorn_conf.py",
    "GUNICORN_WORKER_CLASS": "functions/cli/gunicorn_conf.py",
    "GUNICORN_WORKER_CONNECTIONS": "functions/cli/gunicorn_conf.py",
    "GUNICORN_CMD_ARGS": "functions/cli/gunicorn_conf.py",
    "SANDBOX_HOST": "runner/sandbox/__main__.py",
    "SANDBOX_PORT": "runner/sandbox/__main__.py",
    "SANDBOX_DATA_DIR": "runner/sandbox/__main__.py",
    "SANDBOX_QR_INTERVAL": "runner/sandbox/__main__.py",
}


def pyproject() -> dict[str, object]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def console_scripts() -> dict[str, str]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    scripts = project["scripts"]
    assert isinstance(scripts, dict)
    return {str(name): str(target) for name, target in scripts.items()}


def settings_env_names() -> set[str]:
    """Every variable name Settings reads: field names upper-cased, and their validation aliases."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
    return names


def known_env_names() -> set[str]:
    """Settings' names plus the other variables our code demonstrably reads."""
    others = {name for name, path in OTHER_ENV_READERS.items() if name in (REPO_ROOT / path).read_text()}
    return settings_env_names() | others


def check_openwa_argv(argv: Sequence[str]) -> click.Command:
    """Parse `argv` (starting with the console script) as the `openwa` CLI would; return the leaf command.

    Raises AssertionError for another program and click.UsageError for an unknown command or option.
    """
    assert argv, "empty command"
    program = Path(argv[0]).name
    assert program in console_scripts(), f"{program!r} is not a console script of pyproject.toml"
    assert console_scripts()[program] == "functions.cli.main:cli"
    command: click.Command = cli
    args = list(argv[1:])
    while isinstance(command, click.Group):
        if not args or args[0] not in command.commands:
            raise click.UsageError(f"no such openwa command: {args[:1]}")
        name = args.pop(0)
        command = command.commands[name]
    # make_context parses and validates every option and argument without running the command.
    command.make_context(program, args, resilient_parsing=False)
    return command


_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: Sequence[str]) -> dict[str, str]:
    """`{normalised name: version}` of the `name==version` lines; other lines are ignored."""
    found: dict[str, str] = {}
    for line in lines:
        match = _PIN.match(line)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def pyproject_pins() -> dict[str, str]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return pins(list(project["dependencies"]))
