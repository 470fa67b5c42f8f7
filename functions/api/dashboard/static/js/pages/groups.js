// Groups of a ready session: the list, one group's members with their admin badges, its invite link, and
// (operator keys) creating a group and adding or removing members, through the API's group routes.

import { api, request, seg } from "../api.js";
import { busy, field, h, replace, table, toast } from "../dom.js";
import { normaliseChatId } from "../chats/model.js";

/** "15550002222, +1 555 000 3333" -> ["15550002222@c.us", "15550003333@c.us"]. */
function people(text) {
  return text
    .split(/[,;\n]+/)
    .map((part) => part.trim().replace(/[\s().-]/g, ""))
    .filter(Boolean)
    .map(normaliseChatId);
}

function role(member) {
  if (member.isSuperAdmin) return h("span", { class: "badge", dataset: { role: "owner" } }, "owner");
  if (member.isAdmin) return h("span", { class: "badge", dataset: { role: "admin" } }, "admin");
  return h("span", { class: "muted" }, "member");
}

function outcome(answer) {
  const refused = answer.results.filter((r) => !r.success);
  if (refused.length === 0) return toast(answer.message || "Done");
  toast(`Not done for ${refused.map((r) => `${r.id} (${r.status} ${r.message})`).join(", ")}`, "error");
}

export function createGroupsPage(ctx) {
  const session = h("select", { id: "groups-session", required: true });
  const list = h("div", { id: "groups-list" });
  const detail = h("section", {
    id: "group-detail",
    class: "card stack",
    hidden: true,
    "aria-live": "polite",
  });
  const noneReady = h(
    "p",
    { class: "alert", hidden: true },
    "No session is ready. Link one on the Sessions page.",
  );
  const base = () => `/api/sessions/${seg(session.value)}/groups`;
  let openId = null;

  async function load() {
    if (!session.value) return replace(list);
    const groups = await api.get(base());
    const rows = groups.map((g) => [
      g.name,
      h("code", {}, g.id),
      h("button", { type: "button", class: "btn", onclick: () => open(g.id) }, `Open ${g.name}`),
    ]);
    const none = h("p", { class: "muted" }, "No groups.");
    replace(list, groups.length ? table("Groups", ["Name", "Id", ""], rows) : none);
  }

  async function open(groupId) {
    openId = groupId;
    const group = await api.get(`${base()}/${seg(groupId)}`);
    const members = group.participants.map((m) => [
      h("code", {}, m.id),
      role(m),
      ctx.canOperate && !m.isSuperAdmin
        ? h(
            "button",
            { type: "button", class: "btn btn-danger-quiet", onclick: (e) => remove(m.id, e.target) },
            `Remove ${m.number || m.id}`,
          )
        : "",
    ]);
    const invite = h("output", { id: "group-invite", class: "result" });
    const showInvite = h("button", { type: "button", class: "btn" }, "Show invite link");
    showInvite.addEventListener("click", () =>
      busy(showInvite, async () => {
        const answer = await api.get(`${base()}/${seg(groupId)}/invite-code`);
        replace(invite, h("code", {}, answer.inviteLink));
      }),
    );
    const adding = h("input", {
      id: "group-add",
      autocomplete: "off",
      placeholder: "15550002222, 15550003333",
    });
    const addForm = h(
      "form",
      { class: "stack", "aria-label": "Add members" },
      field("Add members (phone numbers)", adding),
      h("div", { class: "row" }, h("button", { type: "submit", class: "btn" }, "Add")),
    );
    addForm.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(event.submitter, async () => {
        const body = { participants: people(adding.value) };
        outcome(await api.post(`${base()}/${seg(groupId)}/participants`, body));
        await open(groupId);
      });
    });
    detail.hidden = false;
    replace(
      detail,
      h("h2", { id: "group-title" }, group.name),
      group.description ? h("p", {}, group.description) : null,
      table(`Members of ${group.name}`, ["Member", "Role", ""], members),
      h("div", { class: "row" }, showInvite),
      invite,
      ctx.canOperate ? addForm : null,
    );
  }

  async function remove(memberId, button) {
    await busy(button, async () => {
      const path = `${base()}/${seg(openId)}/participants`;
      outcome(await request("DELETE", path, { body: { participants: [memberId] } }));
      await open(openId);
    });
  }

  const name = h("input", { id: "group-name", required: true, maxlength: "100", autocomplete: "off" });
  const members = h("input", { id: "group-members", required: true, autocomplete: "off" });
  const createForm = h(
    "form",
    { class: "stack", "aria-label": "Create a group" },
    field("Group name", name),
    field("Members", members, "Phone numbers, country code first, separated by commas"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create group")),
  );
  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!session.reportValidity()) return;
    busy(event.submitter, async () => {
      const body = { name: name.value.trim(), participants: people(members.value) };
      const created = await api.post(base(), body);
      toast(`Created ${created.name}`);
      await load();
      await open(created.id);
    });
  });

  const el = h(
    "section",
    { class: "page", id: "page-groups", "aria-labelledby": "groups-title" },
    h("h1", { id: "groups-title", tabindex: "-1" }, "Groups"),
    noneReady,
    h(
      "div",
      { class: "grid grid-2" },
      h(
        "section",
        { class: "card stack", "aria-label": "Groups of the session" },
        field("Ready session", session),
        list,
        ctx.canOperate ? createForm : h("p", { class: "muted" }, "Creating groups needs an operator key."),
      ),
      detail,
    ),
  );

  function renderSessions() {
    const ready = ctx.store.list().filter((s) => s.status === "ready");
    const chosen = session.value;
    replace(
      session,
      ready.map((s) =>
        h("option", { value: s.id, selected: s.id === chosen }, s.phone ? `${s.name} (+${s.phone})` : s.name),
      ),
    );
    noneReady.hidden = !ctx.store.loaded || ready.length > 0;
    if (session.value !== chosen) {
      detail.hidden = true;
      load().catch((error) => toast(error.describe ? error.describe() : String(error), "error"));
    }
  }

  session.addEventListener("change", () => {
    detail.hidden = true;
    load().catch((error) => toast(error.describe ? error.describe() : String(error), "error"));
  });
  const unsubscribe = ctx.store.subscribe(renderSessions);
  function show() {
    renderSessions();
    load().catch((error) => toast(error.describe ? error.describe() : String(error), "error"));
  }
  return { el, title: "Groups", show, destroy: unsubscribe };
}
