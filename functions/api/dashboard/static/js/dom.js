// DOM helpers. Text always goes in as text nodes (never innerHTML), so API data cannot inject markup,
// and no inline style or handler attribute is ever written (the page's CSP forbids them).

/**
 * h("button", {class: "btn", type: "button", onclick: fn, disabled: true, dataset: {id}}, "Label", child)
 * Props starting with "on" add listeners; `class`, `dataset`, `hidden`, `disabled`, `value`, `checked`
 * and `selected` set properties; anything else is an attribute. Children: nodes, strings, numbers,
 * arrays; null, undefined and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (["hidden", "disabled", "value", "checked", "selected", "required", "multiple"].includes(name))
      element[name] = value;
    else if (name === "style") throw new Error("inline styles are not allowed (CSP)");
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A labelled form field: label + control (+ hint), wired by id for screen readers. */
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("small", { id: hintId, class: "hint" }, hint) : null,
  );
}

let toastSeq = 0;

/** A short message in the corner; errors are announced assertively. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", id: `toast-${++toastSeq}` },
    message,
  );
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

/** Ask before a destructive action, with the page's <dialog> (focus is trapped and Esc cancels). */
export function confirmAction(message, confirmLabel = "Confirm") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-message").textContent = message;
  document.getElementById("confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

/** "3 min ago"-style rendering of an ISO time; an em dash for none. */
export function ago(iso) {
  if (!iso) return "—";
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleString();
}

export function clock(epochOrIso) {
  const date = typeof epochOrIso === "number" ? new Date(epochOrIso * 1000) : new Date(epochOrIso);
  return Number.isNaN(date.getTime()) ? String(epochOrIso) : date.toLocaleTimeString();
}

/** A busy state for a button while `work` runs; errors become an error toast (and are returned). */
export async function busy(button, work) {
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (error) {
    toast(error.describe ? error.describe() : String(error.message || error), "error");
    return undefined;
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute("aria-busy");
  }
}

/** A table that turns into labelled cards on narrow screens (each cell carries its column's label). */
export function table(caption, columns, rows) {
  return h(
    "table",
    { class: "table" },
    h("caption", { class: "sr-only" }, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((column) => h("th", { scope: "col" }, column)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((cells) =>
        h(
          "tr",
          {},
          cells.map((cell, index) => h("td", { "data-label": columns[index] }, cell)),
        ),
      ),
    ),
  );
}
