// Two dialogs: asking for a name (new folder, rename) and picking a destination folder
// (move), which browses the folder tree through /api/v1/folders.

import { $, h, icon, ICONS, formatBytes } from "./dom.js";
import { errorText } from "./messages.js";
import { api, baseName, parentOf } from "./state.js";

/** Ask for a name; `submit(value)` runs the change and may throw (shown in the dialog).
 * Resolves to submit's result, or null when cancelled. */
export function askName({ title, label, value = "", confirm, submit }) {
  const dialog = $("prompt");
  const input = $("prompt-input");
  const error = $("prompt-error");
  $("prompt-title").textContent = title;
  $("prompt-label").textContent = label;
  $("prompt-ok").textContent = confirm;
  input.value = value;
  error.hidden = true;
  input.removeAttribute("aria-invalid");
  return new Promise((resolve) => {
    const form = $("prompt-form");
    const finish = (result) => {
      form.onsubmit = null;
      $("prompt-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(result);
    };
    form.onsubmit = async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) {
        error.textContent = "Type a name first";
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        return;
      }
      $("prompt-ok").disabled = true;
      try {
        finish(await submit(text));
      } catch (problem) {
        if (problem.status === 401) return finish(null);
        error.textContent = errorText(problem);
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      } finally {
        $("prompt-ok").disabled = false;
      }
    };
    input.oninput = () => {
      error.hidden = true;
      input.removeAttribute("aria-invalid");
    };
    $("prompt-cancel").onclick = () => finish(null);
    dialog.onclose = () => finish(null);
    dialog.showModal();
    input.focus();
    const dot = value.lastIndexOf(".");
    input.setSelectionRange(0, dot > 0 ? dot : value.length); // the name, not its extension
  });
}

/** Pick a folder to move into, starting at `start`; folders in `excluded` (being moved)
 * cannot be entered or chosen. Resolves to the path ("" the top level) or null. */
export function pickFolder({ title, confirm, start = "", excluded = [] }) {
  const dialog = $("picker");
  let current = start;
  $("picker-title").textContent = title;
  const blocked = (path) => excluded.some((gone) => path === gone || path.startsWith(`${gone}/`));
  if (blocked(current)) current = "";

  async function show(path) {
    current = path;
    const okLabel = `${confirm} ${path ? `“${baseName(path)}”` : "the top level"}`;
    $("picker-ok").textContent = okLabel;
    $("picker-ok").disabled = blocked(path);
    renderCrumbs(path);
    const list = $("picker-list");
    list.replaceChildren(h("li", { class: "muted small" }, "Loading…"));
    try {
      const page = await api("GET", "/folders", { query: { path, limit: 500 } });
      const items = page.items.filter((folder) => !blocked(folder.path));
      list.replaceChildren(
        ...(items.length ? items.map(option) : [h("li", { class: "muted small picker-empty" }, "No folders inside")]),
      );
    } catch (error) {
      list.replaceChildren(h("li", { class: "field-error" }, errorText(error)));
    }
  }

  function option(folder) {
    const button = h(
      "button",
      { type: "button", class: "picker-option", role: "option", "aria-selected": "false", onclick: () => show(folder.path) },
      icon(ICONS.folder),
      h("span", {}, folder.name),
      h("span", { class: "muted small" }, `${folder.files} ${folder.files === 1 ? "file" : "files"} · ${formatBytes(folder.bytes)}`),
    );
    return h("li", {}, button);
  }

  function renderCrumbs(path) {
    const parts = path ? path.split("/") : [];
    const crumbs = [h("li", {}, h("button", { type: "button", class: "crumb", onclick: () => show("") }, "Top level"))];
    parts.forEach((part, index) => {
      const target = parts.slice(0, index + 1).join("/");
      crumbs.push(h("li", {}, h("button", { type: "button", class: "crumb", onclick: () => show(target), "aria-current": index === parts.length - 1 ? "location" : null }, part)));
    });
    $("picker-crumbs").replaceChildren(...crumbs);
  }

  return new Promise((resolve) => {
    const finish = (result) => {
      $("picker-form").onsubmit = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(result);
    };
    $("picker-form").onsubmit = (event) => {
      event.preventDefault();
      finish(current);
    };
    $("picker-cancel").onclick = () => finish(null);
    dialog.onclose = () => finish(null);
    dialog.onkeydown = (event) => {
      if (event.key === "Backspace" && current && !event.target.closest("input")) {
        event.preventDefault();
        show(parentOf(current));
      }
    };
    dialog.showModal();
    show(current).then(() => $("picker-list").querySelector("button")?.focus() || $("picker-ok").focus());
  });
}
