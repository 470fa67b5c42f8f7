"""What the pinned @wppconnect/wa-js declares, read from its `dist/**/*.d.ts`: namespace functions with their
parameter counts, top-level exports, event names, and the properties of its interfaces and type aliases
(option objects such as `SendMessageOptions`, results such as `SendMessageReturn`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[2] / "runner"
DIST = RUNNER / "node_modules" / "@wppconnect" / "wa-js" / "dist"
_FUNCTION = re.compile(r"^(?:export )?declare function (\w+)\s*(?:<[^(]*>)?\s*\(", re.MULTILINE)
_ALIAS = re.compile(r"(\w+) as (\w+)")  # `export { _delete as delete }`: `delete` is a reserved word
_EVENT = re.compile(r"^\s+'([a-z_]+\.[a-z_]+)'\??:", re.MULTILINE)
_EXPORT_LIST = re.compile(r"export \{([^}]*)\}", re.DOTALL)
_EXPORT_DECL = re.compile(r"export declare (?:const|let|function) (\w+)")
_INTERFACE = re.compile(r"^export interface (\w+)(?:<[^>{]*>)?\s*(?:extends ([^{]+))?\{", re.MULTILINE)
_TYPE_ALIAS = re.compile(r"^export type (\w+) = ([^;]+);", re.MULTILINE)
_PROPERTY = re.compile(r"^    (?:readonly )?(\w+)\??:", re.MULTILINE)
_TYPE_NAME = re.compile(r"\b([A-Z]\w*)\b")


@dataclass(frozen=True)
class Declarations:
    functions: dict[str, dict[str, set[int]]]  # namespace -> function -> parameter counts (one per overload)
    top_level: set[str]
    events: set[str]


def ensure_installed() -> Path:
    """The wa-js dist directory, which the setup (`scripts/setup`: `npm ci --prefix runner`) installs; a test
    never installs it itself."""
    assert DIST.exists(), f"{DIST} is missing: run scripts/setup (it installs runner/package.json)"
    return DIST


def count_parameters(text: str, start: int) -> int:
    """The number of parameters in the list whose '(' is at `start` (nesting and strings respected)."""
    depth, count, seen, i = 0, 0, False, start
    while True:
        char = text[i]
        if char in "([{<":
            depth += 1
        elif char in ")]}>" and not (char == ">" and text[i - 1] == "="):
            depth -= 1
            if depth == 0:
                return count + (1 if seen else 0)
        elif char == "," and depth == 1:
            count, seen = count + 1, False
        elif depth >= 1 and not char.isspace():
            seen = True
        i += 1


def read(dist: Path) -> Declarations:
    functions: dict[str, dict[str, set[int]]] = {}
    # Namespace functions live in `<ns>/functions/*.d.ts`; a few namespaces (loader) declare theirs in
    # `<ns>/index.d.ts` itself.
    for path in [*dist.glob("*/functions/*.d.ts"), *dist.glob("*/index.d.ts")]:
        text = path.read_text("utf-8")
        namespace = path.parent.name if path.name == "index.d.ts" else path.parent.parent.name
        found = functions.setdefault(namespace, {})
        aliases = dict(_ALIAS.findall(" ".join(_EXPORT_LIST.findall(text))))
        for match in _FUNCTION.finditer(text):
            name = str(aliases.get(match.group(1), match.group(1)))
            found.setdefault(name, set()).add(count_parameters(text, match.end() - 1))
    index = (dist / "index.d.ts").read_text("utf-8")
    top = {
        name.strip().split(" as ")[-1] for group in _EXPORT_LIST.findall(index) for name in group.split(",")
    }
    top |= set(_EXPORT_DECL.findall(index)) | {"isReady", "isInjected", "isFullReady"}
    events = {
        name for path in dist.rglob("eventTypes.d.ts") for name in _EVENT.findall(path.read_text("utf-8"))
    }
    return Declarations(functions, {name for name in top if name}, events)


@dataclass(frozen=True)
class Types:
    """Interfaces (own properties and what they extend) and type aliases, by name, across the dist."""

    properties: dict[str, set[str]]
    bases: dict[str, set[str]]
    aliases: dict[str, str]

    def fields(self, type_expression: str) -> set[str]:
        """Every property any type named in `type_expression` (`A | B`, `A & B`, an alias) declares,
        inherited ones included."""
        found: set[str] = set()
        seen: set[str] = set()
        todo = _TYPE_NAME.findall(type_expression)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            found |= self.properties.get(name, set())
            todo += sorted(self.bases.get(name, set()))
            todo += _TYPE_NAME.findall(self.aliases.get(name, ""))
        return found


def read_types(dist: Path) -> Types:
    properties: dict[str, set[str]] = {}
    bases: dict[str, set[str]] = {}
    aliases: dict[str, str] = {}
    for path in dist.rglob("*.d.ts"):
        text = path.read_text("utf-8")
        for match in _INTERFACE.finditer(text):
            body_end = _closing_brace(text, match.end() - 1)
            name = match.group(1)
            properties.setdefault(name, set()).update(_PROPERTY.findall(text[match.end() : body_end]))
            bases.setdefault(name, set()).update(_TYPE_NAME.findall(match.group(2) or ""))
        for match in _TYPE_ALIAS.finditer(text):
            aliases[match.group(1)] = match.group(2)
    return Types(properties, bases, aliases)


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def options_type(dist: Path, namespace: str, function: str) -> str:
    """The declared type of `WPP.<namespace>.<function>`'s `options` parameter (e.g. `TextMessageOptions`)."""
    text = (dist / namespace / "functions" / f"{function}.d.ts").read_text("utf-8")
    match = re.search(rf"declare function {function}\((.*?)\): ", text, re.DOTALL)
    assert match, f"{namespace}.{function} is not declared"
    options = re.search(r"\boptions\??: ([^)]+?)(?:, \w+\??:|$)", match.group(1), re.DOTALL)
    assert options, f"{namespace}.{function} has no options parameter"
    return options.group(1)
