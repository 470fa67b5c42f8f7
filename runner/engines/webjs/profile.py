"""The files of a Chromium profile that hold a WhatsApp Web login, as a map of relative posix path -> bytes.

WhatsApp Web keeps its local key as a non-extractable CryptoKey in IndexedDB (`wawc_db_enc`) and a salt in
localStorage (`WebEncKeySalt`). Playwright's `storage_state(indexed_db=True)` cannot serialize a CryptoKey
(https://github.com/microsoft/playwright/issues/35946: it comes back as `{}`), so a login only survives a
restart as the profile's own files, as wppconnect and whatsapp-web.js (LocalAuth, RemoteAuth) keep it.

What is kept: `Default/IndexedDB/**` and `Default/Local Storage/**`, the two trees whatsapp-web.js's
RemoteAuth keeps too. Chromium's LevelDB bookkeeping files are left out: `LOCK` (an empty file only ever
flock'ed), `LOG`/`LOG.old` (a human-readable diagnostic log, rewritten at every open, so it would make every
snapshot look changed). Nothing else of the profile is needed: a profile restored from these files alone comes
back with the CryptoKey and the localStorage values (tests/integration/test_profile_crypto_key.py); caches,
cookies, history, the service worker and its CacheStorage are rebuilt by the page.

Reading a running browser's profile: Chromium writes IndexedDB at each transaction commit, but localStorage
lazily. Measured here: ~5 s after a first write, then at most about once a minute; at once when the origin's
last page or the browser closes; with the flag `--enable-aggressive-domstorage-flushing`, ~1 s after each
write. So a snapshot of a running browser may lack the latest localStorage writes (WhatsApp's salt, right
after linking); one taken after the context is closed has everything, with LevelDB files at rest.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

__all__ = ["KEPT", "archive", "restore"]

KEPT = ("Default/IndexedDB", "Default/Local Storage")
SKIPPED_NAMES = frozenset({"LOCK", "LOG", "LOG.old"})
# LevelDB compaction writes new table files, rewrites MANIFEST and deletes old tables; a walk that overlaps
# one may pair a MANIFEST with tables it does not name. Walking again until the file names stop changing
# makes that unlikely; after these attempts the last walk is returned as it is.
WALK_ATTEMPTS = 3


def archive(profile_dir: Path) -> dict[str, bytes]:
    """The login files of the Chromium user-data dir `profile_dir` (see the module docstring), keyed by
    posix paths relative to it. Safe while the browser runs: a file that vanishes mid-walk is skipped.
    A missing dir or tree gives an empty map (nothing to keep, never linked)."""
    files: dict[str, bytes] = {}
    for _ in range(WALK_ATTEMPTS):
        names = _list(profile_dir)
        files = _read(profile_dir, names)
        if _list(profile_dir) == names:
            break
    return files


def restore(profile_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` (from `archive`) into `profile_dir`, creating it, before the browser is launched on it.

    The kept trees are replaced, not merged: stale LevelDB files left in them would be read with the new
    ones. Raises ValueError, before writing anything, for a path that is absolute, empty, has an empty, `.`
    or `..` segment or a NUL, or would land outside `profile_dir` (through a symlink)."""
    root = profile_dir.resolve()
    targets = {name: _target(root, name) for name in files}
    for tree in KEPT:
        if (root / tree).resolve().is_relative_to(root):  # never follow a link out of the profile
            shutil.rmtree(root / tree, ignore_errors=True)
    for name, data in files.items():
        targets[name].parent.mkdir(parents=True, exist_ok=True)
        targets[name].write_bytes(data)


def _list(profile_dir: Path) -> list[str]:
    """The relative paths of the kept regular files, sorted; directories that vanish are skipped."""
    names = []
    for tree in KEPT:
        for directory, _, filenames in os.walk(profile_dir / tree):  # os.walk ignores vanished dirs
            for filename in filenames:
                if filename not in SKIPPED_NAMES:
                    names.append(Path(directory, filename).relative_to(profile_dir).as_posix())
    return sorted(names)


def _read(profile_dir: Path, names: list[str]) -> dict[str, bytes]:
    files = {}
    for name in names:
        path = profile_dir / name
        try:
            if path.is_symlink() or not path.is_file():
                continue  # Chromium writes no links here; one would point outside the profile
            files[name] = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            continue  # deleted by Chromium (a compaction) between the listing and the read
    return files


def _target(root: Path, name: str) -> Path:
    refused = ValueError(f"refusing a profile path outside the profile: {name!r}")
    # An absolute path, like "" and "a//b", has an empty segment.
    if "\0" in name or any(part in {"", ".", ".."} for part in name.split("/")):
        raise refused
    target = (root / PurePosixPath(name)).resolve()
    if not target.is_relative_to(root) or target == root:
        raise refused  # a symlink inside the dir pointing out of it
    return target
