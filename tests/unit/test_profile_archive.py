"""A Chromium profile's login files as a file map: what `profile.archive` keeps, how `restore` writes it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from runner.engines.webjs import profile

IDB = "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb"
LOCAL = "Default/Local Storage/leveldb"


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def chromium_like_profile(root: Path) -> None:
    """The shape of a profile Chromium leaves behind (names from a real run), with made-up contents."""
    write(
        root,
        {
            f"{IDB}/000003.log": b"idb records",
            f"{IDB}/CURRENT": b"MANIFEST-000001\n",
            f"{IDB}/MANIFEST-000001": b"idb manifest",
            f"{IDB}/LOCK": b"",
            f"{IDB}/LOG": b"2026/12/07 opened",
            f"{IDB}/LOG.old": b"2026/12/06 opened",
            "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00/3": b"a large value",
            f"{LOCAL}/000003.log": b"WebEncKeySalt",
            f"{LOCAL}/CURRENT": b"MANIFEST-000001\n",
            f"{LOCAL}/LOCK": b"",
            "Default/Cache/Cache_Data/index": b"cache",
            "Default/Code Cache/js/index": b"code cache",
            "Default/GPUCache/data_0": b"gpu",
            "Default/Service Worker/CacheStorage/x/index": b"sw cache",
            "Default/Service Worker/ScriptCache/index": b"sw scripts",
            "Default/Cookies": b"cookies",
            "Default/Cookies-journal": b"",
            "Default/Session Storage/000003.log": b"per-tab",
            "Default/LOCK": b"",
            "Local State": b"{}",
            "Crashpad/settings.dat": b"crash",
        },
    )


def test_archive_keeps_indexeddb_and_local_storage_and_nothing_else(tmp_path: Path) -> None:
    chromium_like_profile(tmp_path)
    assert profile.archive(tmp_path) == {
        f"{IDB}/000003.log": b"idb records",
        f"{IDB}/CURRENT": b"MANIFEST-000001\n",
        f"{IDB}/MANIFEST-000001": b"idb manifest",
        "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00/3": b"a large value",
        f"{LOCAL}/000003.log": b"WebEncKeySalt",
        f"{LOCAL}/CURRENT": b"MANIFEST-000001\n",
    }


def test_a_profile_never_used_archives_to_nothing(tmp_path: Path) -> None:
    assert profile.archive(tmp_path / "absent") == {}
    assert profile.archive(tmp_path) == {}


def test_archive_of_a_profile_being_compacted_skips_files_that_vanish(tmp_path: Path) -> None:
    # What LevelDB does under a running browser: new tables appear, old ones are deleted.
    write(tmp_path, {f"{IDB}/CURRENT": b"MANIFEST-000001\n"})
    stop = threading.Event()

    def compact() -> None:
        n = 0
        while not stop.is_set():
            (tmp_path / IDB / f"{n:06}.ldb").write_bytes(b"table")
            (tmp_path / IDB / f"{n - 1:06}.ldb").unlink(missing_ok=True)
            n += 1

    compactor = threading.Thread(target=compact)
    compactor.start()
    try:
        for _ in range(200):
            assert profile.archive(tmp_path)[f"{IDB}/CURRENT"] == b"MANIFEST-000001\n"
    finally:
        stop.set()
        compactor.join()


def test_restore_into_a_new_dir_gives_back_the_same_archive(tmp_path: Path) -> None:
    chromium_like_profile(tmp_path / "old")
    files = profile.archive(tmp_path / "old")
    profile.restore(tmp_path / "new" / "profile", files)
    assert profile.archive(tmp_path / "new" / "profile") == files


def test_restore_replaces_the_kept_trees_and_leaves_the_rest(tmp_path: Path) -> None:
    # A stale LevelDB table next to the restored ones would be read as part of the database.
    write(tmp_path, {f"{IDB}/000005.ldb": b"stale table", "Default/Preferences": b"{}"})
    profile.restore(tmp_path, {f"{IDB}/CURRENT": b"MANIFEST-000001\n"})
    assert not (tmp_path / IDB / "000005.ldb").exists()
    assert (tmp_path / IDB / "CURRENT").read_bytes() == b"MANIFEST-000001\n"
    assert (tmp_path / "Default/Preferences").read_bytes() == b"{}"


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../outside", "Default/../../outside", "Default/./x", "Default//x", "", "a\0b"]
)
def test_restore_refuses_a_path_that_escapes_the_profile_and_writes_nothing(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ValueError, match="outside the profile"):
        profile.restore(tmp_path / "profile", {f"{LOCAL}/CURRENT": b"fine", name: b"evil"})
    assert not (tmp_path / "profile" / LOCAL / "CURRENT").exists()
    assert not (tmp_path / "outside").exists()


def test_restore_refuses_to_write_through_a_symlink_out_of_the_profile(tmp_path: Path) -> None:
    (tmp_path / "profile").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "profile" / "Default").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="outside the profile"):
        profile.restore(tmp_path / "profile", {"Default/Local Storage/leveldb/CURRENT": b"x"})
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_archive_skips_links_a_browser_would_not_write(tmp_path: Path) -> None:
    write(tmp_path, {f"{LOCAL}/CURRENT": b"MANIFEST-000001\n"})
    (tmp_path / "secret").write_bytes(b"not the profile's")
    (tmp_path / LOCAL / "000009.log").symlink_to(tmp_path / "secret")
    assert profile.archive(tmp_path) == {f"{LOCAL}/CURRENT": b"MANIFEST-000001\n"}
