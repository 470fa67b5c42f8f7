"""The `openwa` command line: `up` (everything on one machine), `api`, `worker` and `keys`.

Modules: `main` (the click commands), `embedded` (what `up` starts, in order), `processes` and `proctable`
(supervising children and leaving nothing behind), `redis_server` (the private Redis), `serve` and
`gunicorn_conf` (the production API and worker).
"""
