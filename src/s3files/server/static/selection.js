// Choosing several items: checkboxes, Shift for a range, Ctrl/Cmd for one more, Ctrl/Cmd+A
// for all; the arrow keys move through the rows (Shift+arrow extends the selection). The
// bar of bulk actions shows what is chosen; its buttons run bulk.js's actions.

import { $ } from "./dom.js";
import { entries } from "./list.js";
import { hooks, state } from "./state.js";

export function selectedEntries() {
  return entries().filter((entry) => state.selection.has(entry.key));
}

export function clearSelection() {
  state.selection.clear();
  state.anchor = null;
  renderSelection();
}

export function renderSelection() {
  const shown = entries();
  const rows = new Map([...$("file-rows").rows].map((row) => [row.dataset.key, row]));
  for (const entry of shown) {
    const row = rows.get(entry.key);
    if (!row) continue;
    const on = state.selection.has(entry.key);
    row.setAttribute("aria-selected", String(on));
    row.classList.toggle("is-selected", on);
    const box = row.querySelector("input.select");
    if (box) box.checked = on;
  }
  for (const key of [...state.selection]) if (!rows.has(key)) state.selection.delete(key); // gone from view
  const count = state.selection.size;
  const all = $("select-all");
  all.checked = count > 0 && count === shown.length;
  all.indeterminate = count > 0 && count < shown.length;
  const bar = $("bulk");
  bar.hidden = count === 0;
  if (count === 0) return;
  const chosen = selectedEntries();
  const folders = chosen.filter((entry) => entry.kind === "folder").length;
  const files = chosen.length - folders;
  const parts = [];
  if (folders) parts.push(`${folders} ${folders === 1 ? "folder" : "folders"}`);
  if (files) parts.push(`${files} ${files === 1 ? "file" : "files"}`);
  $("bulk-count").textContent = `${parts.join(" and ")} selected`;
  $("bulk-zip").hidden = state.trash;
  $("bulk-move").hidden = state.trash;
  $("bulk-trash").hidden = state.trash;
  $("bulk-restore").hidden = !state.trash;
  $("bulk-delete").hidden = !state.trash;
}

function keyAt(index) {
  return entries()[index]?.key;
}

function indexOf(key) {
  return entries().findIndex((entry) => entry.key === key);
}

/** Select the range from the anchor to `key` (Shift), toggle `key` (Ctrl/Cmd), or only it. */
export function choose(key, { range = false, toggle = false } = {}) {
  if (range && state.anchor !== null && indexOf(state.anchor) >= 0) {
    const [from, to] = [indexOf(state.anchor), indexOf(key)].sort((a, b) => a - b);
    if (!toggle) state.selection.clear();
    for (let index = from; index <= to; index += 1) state.selection.add(keyAt(index));
  } else if (toggle) {
    if (state.selection.has(key)) state.selection.delete(key);
    else state.selection.add(key);
    state.anchor = key;
  } else {
    state.selection.clear();
    state.selection.add(key);
    state.anchor = key;
  }
  renderSelection();
  announce();
}

export function selectAll() {
  for (const entry of entries()) state.selection.add(entry.key);
  renderSelection();
  announce();
}

function announce() {
  $("live-status").textContent = state.selection.size ? $("bulk-count").textContent : "Nothing selected";
}

function focusRow(key) {
  const row = [...$("file-rows").rows].find((candidate) => candidate.dataset.key === key);
  row?.querySelector(".file-name")?.focus();
  row?.scrollIntoView({ block: "nearest" });
}

export function focusedKey() {
  return document.activeElement?.closest?.("#file-rows tr")?.dataset.key || null;
}

/** Keys inside the list: arrows, Home/End, Space, Ctrl/Cmd+A. Returns true if handled. */
export function listKey(event) {
  const current = focusedKey();
  const shown = entries();
  if (!shown.length) return false;
  const at = current ? indexOf(current) : -1;
  const mod = event.ctrlKey || event.metaKey;
  let next = null;
  if (event.key === "ArrowDown") next = Math.min(at + 1, shown.length - 1);
  else if (event.key === "ArrowUp") next = Math.max(at - 1, 0);
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = shown.length - 1;
  if (next !== null) {
    const key = shown[next].key;
    focusRow(key);
    if (event.shiftKey) choose(key, { range: true });
    else if (!mod) {
      state.anchor = key;
    }
    return true;
  }
  if (event.key === " " && current) {
    choose(current, { toggle: true, range: event.shiftKey });
    return true;
  }
  if (mod && event.key.toLowerCase() === "a") {
    selectAll();
    return true;
  }
  return false;
}

/** Clicks on rows and checkboxes (delegated: rows are rebuilt on every change). */
export function setUpSelection() {
  $("file-rows").addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (!row) return;
    const box = event.target.closest("input.select");
    if (box) {
      event.stopPropagation();
      choose(row.dataset.key, { toggle: true, range: event.shiftKey });
      return;
    }
    if (event.target.closest(".file-name, input, a")) return; // opening, or renaming
    const mod = event.ctrlKey || event.metaKey;
    if (event.shiftKey || mod) {
      event.preventDefault();
      choose(row.dataset.key, { toggle: mod, range: event.shiftKey });
    } else if (row.dataset.kind === "file") {
      hooks.openDetails(row.dataset.id);
    } else {
      choose(row.dataset.key);
    }
  });
  $("select-all").addEventListener("change", (event) => {
    if (event.target.checked) selectAll();
    else clearSelection();
  });
}
