"""`python -m runner` (what `openwa runner` executes): one runner supervisor until SIGTERM/SIGINT."""

from __future__ import annotations

import os
import sys

from functions.config import SettingsError, load_settings
from functions.log import configure_logging
from runner.supervisor import Supervisor


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format.value)
    if settings.runner_nice:
        os.nice(settings.runner_nice)  # inherited by the session processes and their browsers
    Supervisor(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
