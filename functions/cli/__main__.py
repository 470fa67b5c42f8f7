"""`python -m functions.cli ...`: how `openwa up` starts its children without relying on PATH."""

from __future__ import annotations

from functions.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="openwa")
