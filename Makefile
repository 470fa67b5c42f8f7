# Everything goes through scripts/: `make` is only the short names the README uses.
.PHONY: setup run test lint

setup:
	scripts/setup

run: setup
	.venv/bin/openwa up

test: setup
	scripts/test

lint: setup
	scripts/test --lint-only
