"""Reading the images' Dockerfiles with BuildKit's own parser (PyPI `dockerfile`), stage by stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dockerfile


@dataclass
class Stage:
    """One build stage: its base image, name, and instructions in order."""

    base: str
    name: str | None
    instructions: list[dockerfile.Command] = field(default_factory=list)

    def all(self, cmd: str) -> list[dockerfile.Command]:
        return [item for item in self.instructions if item.cmd == cmd.upper()]

    def last(self, cmd: str) -> dockerfile.Command:
        found = self.all(cmd)
        assert found, f"stage {self.name or self.base} has no {cmd}"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for item in self.all("ENV"):
            pairs = list(item.value)
            values.update(zip(pairs[::2], pairs[1::2], strict=True))
        return values

    def run_lines(self) -> list[str]:
        return [" ".join(item.value) for item in self.all("RUN")]


def stages(path: Path) -> list[Stage]:
    found: list[Stage] = []
    for item in dockerfile.parse_file(str(path)):
        if item.cmd == "FROM":
            value = list(item.value)
            name = value[2] if len(value) == 3 and value[1].upper() == "AS" else None
            found.append(Stage(base=value[0], name=name))
        elif found:
            found[-1].instructions.append(item)
    return found


def exec_form(command: dockerfile.Command) -> list[str]:
    """The argv of an exec-form CMD/ENTRYPOINT (shell form is refused: signals must reach our process)."""
    assert command.json, f"{command.original!r} is not in exec (JSON) form"
    return list(command.value)


def healthcheck_argv(command: dockerfile.Command) -> list[str]:
    """The argv of `HEALTHCHECK [options] CMD [...]`, exec form."""
    value = list(command.value)
    assert value[0] == "CMD", f"HEALTHCHECK without CMD: {command.original!r}"
    assert command.json, f"{command.original!r} is not in exec (JSON) form"
    return value[1:]


def copies(stage: Stage) -> list[tuple[list[str], str, str | None]]:
    """(sources, destination, --from stage or None) of each COPY."""
    result = []
    for item in stage.all("COPY"):
        value = list(item.value)
        origin = next((flag.split("=", 1)[1] for flag in item.flags if flag.startswith("--from=")), None)
        result.append((value[:-1], value[-1], origin))
    return result
