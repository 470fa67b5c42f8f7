"""`python -m functions.cli ...`: how `openwa up` starts its children without relying on PATH."""

from functions.cli.main import cli

cli(prog_name="openwa")
