"""Why auth persistence keeps the profile's files: a non-extractable CryptoKey in IndexedDB survives an
archived and restored profile, and does not survive Playwright's `storage_state` (Playwright #35946).
WhatsApp Web keeps its local key exactly so (`wawc_db_enc`, salt `WebEncKeySalt` in localStorage). Real
Chromium; the page is served from 127.0.0.1 (IndexedDB needs an http origin, and the origin includes the
port, so one server serves every step).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright

from runner.engines.webjs import profile
from runner.engines.webjs.browser import LAUNCH_ARGS
from tests.sandbox.conftest import chromium_path

STORE_KEY = """async () => {
  const usages = ['encrypt', 'decrypt'];
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, usages);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode('hello'));
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('wawc_db_enc', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('keys');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise((resolve, reject) => {
    const tx = db.transaction('keys', 'readwrite');
    tx.objectStore('keys').put({ key, iv, sealed: new Uint8Array(sealed) }, 'main');
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  localStorage.setItem('WebEncKeySalt', 'pepper');
}"""
READ_KEY = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('wawc_db_enc', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('keys');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const stored = await new Promise((resolve, reject) => {
    const request = db.transaction('keys').objectStore('keys').get('main');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  const salt = localStorage.getItem('WebEncKeySalt');
  if (!stored) return { stored: false, salt };
  let opened = null;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: stored.iv }, stored.key, stored.sealed);
    opened = new TextDecoder().decode(plain);
  } catch (error) {
    opened = 'failed: ' + error.name;
  }
  return { stored: true, isCryptoKey: stored.key instanceof CryptoKey, opened, salt };
}"""
KEY_BACK = {"stored": True, "isCryptoKey": True, "opened": "hello", "salt": "pepper"}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not worth a line in the test output."""


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty page on 127.0.0.1, the origin every browser in a test opens."""
    root = tmp_path_factory.mktemp("www")
    (root / "index.html").write_text("<!doctype html><title>key holder</title>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def launch(playwright: Playwright, profile_dir: Path) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS
    )


def open_origin(context: BrowserContext, origin: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(origin)
    return page


def test_a_restored_profile_brings_back_a_non_extractable_key_that_still_decrypts(
    playwright: Playwright, origin: str, tmp_path: Path
) -> None:
    linked = launch(playwright, tmp_path / "first")
    page = open_origin(linked, origin)
    page.evaluate(STORE_KEY)
    assert page.evaluate(READ_KEY) == KEY_BACK
    # IndexedDB is on disk at each commit, so a snapshot of the running browser already holds the key;
    # localStorage reaches the disk later (see runner/engines/webjs/profile.py), so it is not asserted here.
    while_running = profile.archive(tmp_path / "first")
    linked.close()
    after_close = profile.archive(tmp_path / "first")

    profile.restore(tmp_path / "second", after_close)
    restored = launch(playwright, tmp_path / "second")
    try:
        assert open_origin(restored, origin).evaluate(READ_KEY) == KEY_BACK
    finally:
        restored.close()

    profile.restore(tmp_path / "third", while_running)
    restored = launch(playwright, tmp_path / "third")
    try:
        found = open_origin(restored, origin).evaluate(READ_KEY)
        assert (found["isCryptoKey"], found["opened"]) == (True, "hello")
    finally:
        restored.close()


def test_storage_state_restores_the_salt_but_not_the_key(
    playwright: Playwright, origin: str, tmp_path: Path
) -> None:
    # Playwright #35946: storage_state(indexed_db=True) serializes a CryptoKey as an empty object, so the
    # record comes back with `{}` where the key was. This is why a WhatsApp login cannot live in it.
    linked = launch(playwright, tmp_path / "profile")
    page = open_origin(linked, origin)
    page.evaluate(STORE_KEY)
    state = linked.storage_state(indexed_db=True)
    linked.close()

    browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS)
    try:
        context = browser.new_context(storage_state=state)
        found = open_origin(context, origin).evaluate(READ_KEY)
    finally:
        browser.close()
    assert found["stored"] is True
    assert found["salt"] == "pepper"
    assert found["isCryptoKey"] is False
    assert found["opened"].startswith("failed: ")
