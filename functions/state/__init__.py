"""Redis repositories: the only modules that talk to Redis directly (plus RQ via `functions.queueing`).

Key layout (all under one prefix, `REDIS_PREFIX`, default `openwa`) is documented in `functions.state.keys`.
"""
