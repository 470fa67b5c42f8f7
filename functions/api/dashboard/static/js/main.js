// The dashboard's entry point: sign in with a pasted key, route between pages (`#/<page>`), and feed every
// page from one event stream (`/api/events`, every session the key may see).

import { ApiError, api, forgetKey, onUnauthorized, storeKey, storedKey } from "./api.js";
import { createAuditPage } from "./pages/audit.js";
import { createChatsPage } from "./pages/chats.js";
import { createGroupsPage } from "./pages/groups.js";
import { createKeysPage } from "./pages/keys.js";
import { createOverviewPage } from "./pages/overview.js";
import { createSessionsPage } from "./pages/sessions.js";
import { createWebhooksPage } from "./pages/webhooks.js";
import { EventStream } from "./sse.js";
import { SessionStore } from "./store.js";
import { toast } from "./dom.js";

const PAGES = {
  overview: createOverviewPage,
  sessions: createSessionsPage,
  chats: createChatsPage,
  groups: createGroupsPage,
  webhooks: createWebhooksPage,
  keys: createKeysPage,
  audit: createAuditPage,
};
const ADMIN_PAGES = new Set(["keys", "audit"]);
const ROLES = { viewer: 1, operator: 2, admin: 3 };

const $ = (id) => document.getElementById(id);
let app = null; // {principal, store, stream, pages: Map, current}

function explain(error) {
  if (!(error instanceof ApiError)) return String(error.message || error);
  if (error.status === 401)
    return (
      `This API key was not accepted: ${error.message} (401 ${error.code}). ` +
      "Paste the whole key; it starts with owa_k1_."
    );
  if (error.status === 0) return `Cannot reach the gateway at ${location.origin}. Is openwa running?`;
  return error.describe();
}

function showLogin(message) {
  $("nav").hidden = true;
  $("whoami").hidden = true;
  $("login").hidden = false;
  const box = $("login-error");
  box.hidden = !message;
  box.textContent = message || "";
  $("api-key").focus();
}

async function signIn(key) {
  const principal = await api.post("/api/auth/validate", undefined, { key });
  storeKey(key);
  start({ ...principal, key });
}

function start(principal) {
  const store = new SessionStore();
  const rank = ROLES[principal.role] || 0;
  const ctx = {
    store,
    principal,
    isAdmin: rank >= ROLES.admin,
    canOperate: rank >= ROLES.operator,
    navigate: (page) => {
      location.hash = `#/${page}`;
    },
  };
  const pages = new Map();
  for (const [name, create] of Object.entries(PAGES)) {
    if (ADMIN_PAGES.has(name) && !ctx.isAdmin) continue;
    const page = create(ctx);
    page.el.hidden = true;
    $("pages").append(page.el);
    pages.set(name, page);
  }
  const stream = new EventStream("/api/events", {
    key: principal.key,
    onEvent: (frame) => {
      store.onEvent(frame);
      pages.forEach((page) => page.onEvent && page.onEvent(frame));
    },
    onState: (state, detail) => {
      if (state === "unauthorized") recheck();
      if (state === "open" || state === "reconnecting") store.setLive(state === "open");
      if (state === "open" && detail.reconnect && !detail.resumed) {
        store.refresh().catch(() => {});
        pages.forEach((page) => page.resync && page.resync()); // what they show may have missed events
      }
      const label = { open: "live", connecting: "connecting…", reconnecting: "reconnecting…" }[state];
      if (label) {
        $("live-state").dataset.state = state;
        $("live-state").textContent = label;
      }
    },
  });
  app = { principal, store, stream, pages, current: null };
  document.querySelectorAll("#nav [data-admin]").forEach((link) => {
    link.hidden = !ctx.isAdmin;
  });
  $("role").textContent = principal.scoped ? `${principal.role} (scoped)` : principal.role;
  $("login").hidden = true;
  $("login-error").hidden = true;
  $("nav").hidden = false;
  $("whoami").hidden = false;
  stream.start();
  store.refresh().catch((error) => toast(explain(error), "error"));
  route();
}

function signOut(message) {
  if (app) {
    app.stream.stop();
    app.pages.forEach((page) => page.destroy && page.destroy());
    $("pages").replaceChildren();
    app = null;
  }
  forgetKey();
  showLogin(message);
}

let rechecking = false;

/** A 401 mid-session: sign out if the key itself is no longer accepted (not just out of scope). */
async function recheck() {
  if (!app || rechecking) return;
  rechecking = true;
  try {
    await api.post("/api/auth/validate", undefined, { key: app.principal.key });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut(explain(error));
  } finally {
    rechecking = false;
  }
}

function route() {
  if (!app) return;
  // `#/<page>` or `#/<page>/<what it shows>` (the Chats page keeps its open chat there)
  let name = location.hash.replace(/^#\/?/, "").split("/")[0] || "overview";
  if (!app.pages.has(name)) name = "overview";
  if (app.current === name) return;
  const previous = app.current && app.pages.get(app.current);
  if (previous) {
    previous.el.hidden = true;
    if (previous.hide) previous.hide();
  }
  app.current = name;
  const page = app.pages.get(name);
  page.el.hidden = false;
  page.show();
  document.querySelectorAll("#nav a").forEach((link) => {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  document.title = `${page.title} · OpenWA dashboard`;
  const heading = page.el.querySelector("h1");
  if (heading && document.activeElement && document.activeElement.closest("#nav")) heading.focus();
}

function boot() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("api-key");
    const button = event.submitter || $("login-form").querySelector("button");
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    try {
      await signIn(key);
      input.value = "";
    } catch (error) {
      showLogin(explain(error));
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", route);
  onUnauthorized(() => recheck());
  const key = storedKey();
  if (!key) {
    showLogin();
    return;
  }
  signIn(key).catch((error) => signOut(explain(error)));
}

boot();
