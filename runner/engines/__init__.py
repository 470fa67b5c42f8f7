"""Engines: the contract (`base`), the `webjs` engine and the registry mapping ENGINE_TYPE to one."""
