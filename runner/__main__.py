"""`python -m runner` (what `openwa runner` executes): one runner supervisor until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import sys

from functions.config import SettingsError, load_settings
from runner.supervisor import Supervisor


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    if settings.runner_nice:
        os.nice(settings.runner_nice)  # inherited by the session processes and their browsers
    Supervisor(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
