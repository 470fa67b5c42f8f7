"""The dashboard's files as served: a strict Content-Security-Policy on every dashboard response (and only
there), no inline script, handler or style in the markup, nothing loaded from another origin, and the
event names the webhook form offers are the gateway's own."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient

from functions.api.dashboard import STATIC_DIR
from functions.webhooks.events import EVENT_NAMES
from tests.live import REPO_ROOT

# A fetch, import or socket aimed at an absolute URL (the CSP would refuse it; this finds it first).
_FOREIGN = re.compile(r"""(?:fetch|import|EventSource|WebSocket)\s*\(\s*["'`](?:[a-z]+:)?//""")
_IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")


class _Markup(HTMLParser):
    """Collects scripts (with their inline text), inline handler/style attributes and referenced URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts.append({"src": values.get("src"), "text": ""})
            self._in_script = True
        self.inline += [f"{tag}[{name}]" for name, _ in attrs if name.startswith("on") or name == "style"]
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1]["text"] = (self.scripts[-1]["text"] or "") + data.strip()


def _modules(client: FlaskClient, entry: str) -> dict[str, str]:
    """Every JavaScript module reachable from `entry` by static or dynamic relative import, as served."""
    found: dict[str, str] = {}
    pending = [entry]
    while pending:
        url = pending.pop()
        if url in found:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype in {"text/javascript", "application/javascript"}, (url, response.mimetype)
        found[url] = response.get_data(as_text=True)
        base = url.rsplit("/", 1)[0]
        for relative in _IMPORT.findall(found[url]):
            parts = base.split("/")
            for piece in relative.split("/"):
                if piece == "..":
                    parts.pop()
                elif piece != ".":
                    parts.append(piece)
            pending.append("/".join(parts))
    return found


def test_dashboard_responses_carry_a_strict_csp_and_the_api_keeps_its_own(client: FlaskClient) -> None:
    for path in (
        "/",
        "/dashboard",
        "/dashboard/",
        "/dashboard/static/dashboard.css",
        "/dashboard/static/nope",
    ):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'none'", path
        assert directives["script-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'", path
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(policy.replace(";", " ").split()), policy
        assert "http" not in policy, policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/").status_code == 200
    assert client.get("/").mimetype == "text/html"
    api_policy = client.get("/api/health").headers["Content-Security-Policy"]
    assert "script-src 'self'" not in api_policy  # the dashboard's policy is set on its responses only


def test_the_page_has_no_inline_script_style_or_handler_and_loads_nothing_foreign(
    client: FlaskClient,
) -> None:
    markup = _Markup()
    markup.feed(client.get("/dashboard").get_data(as_text=True))

    assert markup.scripts, "the page loads its script"
    assert all(script["src"] and not script["text"] for script in markup.scripts), markup.scripts
    assert markup.inline == []
    assert all(url.startswith(("/dashboard/static/", "#", "data:")) for url in markup.urls), markup.urls
    for url in markup.urls:
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url
    modules = _modules(client, next(s["src"] for s in markup.scripts if s["src"]))
    assert len(modules) >= 8  # main, api, sse, store, dom, events and the pages
    for url, source in modules.items():
        assert not _FOREIGN.search(source), f"{url} loads from another origin"
        assert not re.search(r"\.innerHTML|\beval\(|new Function", source), url
        assert not re.search(r"[?&](apiKey|api_key|key)=", source), url  # the key never goes in a URL


def test_the_webhook_form_offers_exactly_the_gateways_event_names(client: FlaskClient) -> None:
    source = client.get("/dashboard/static/js/events.js").get_data(as_text=True)
    listed = re.search(r"EVENT_NAMES = \[(.*?)\];", source, re.S)
    assert listed
    assert re.findall(r'"([^"]+)"', listed.group(1)) == list(EVENT_NAMES)


def test_every_static_file_is_package_data_so_the_wheel_ships_it() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    files = [path for path in STATIC_DIR.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    assert {"index.html", "dashboard.css", "main.js", "sse.js"} <= {path.name for path in files}
    assert [path.name for path in files if not any(fnmatch(path.name, p) for p in patterns)] == []


def test_the_login_hint_names_the_real_key_file_only_to_this_machine(client: FlaskClient, app: Flask) -> None:
    key_file = str(app.extensions["openwa"].settings.api_key_file.resolve())
    local = client.get("/").get_data(as_text=True)
    assert f"<code data-key-file>{key_file}</code>" in local
    assert "<!--key-file-->" not in local
    # A browser elsewhere (tested by refusal: the address is only what the server sees, nothing connects).
    remote = client.get("/", environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_data(as_text=True)
    assert key_file not in remote
    assert "<code>data/.api-key</code>" in remote
    # Through a reverse proxy on this machine: the peer is loopback, the browser is not.
    proxied = client.get("/", headers={"X-Forwarded-For": "198.51.100.7"}).get_data(as_text=True)
    assert key_file not in proxied
