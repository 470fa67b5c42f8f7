"""Background jobs run by `openwa worker`: module-level functions taking ids, referenced by dotted path
from `functions.queueing`."""
