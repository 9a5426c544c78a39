// Folder commands of the page: a new folder, renaming in place (F2), moving through the
// folder picker or by dragging rows onto a folder row or a breadcrumb.

import { $, h } from "./dom.js";
import { askName, pickFolder } from "./dialogs.js";
import { errorText } from "./messages.js";
import { entries } from "./list.js";
import { clearSelection, selectedEntries } from "./selection.js";
import { createFolder, moveEntries, renameEntry } from "./bulk.js";
import { state } from "./state.js";

export function newFolder() {
  return askName({ title: "New folder", label: "Folder name", confirm: "Create", submit: createFolder });
}

export async function moveWithPicker(chosen) {
  if (!chosen.length) return;
  const target = await pickFolder({
    title: `Move ${chosen.length === 1 ? "1 item" : `${chosen.length} items`} to…`,
    confirm: "Move to",
    start: state.folder,
    excluded: chosen.filter((entry) => entry.kind === "folder").map((entry) => entry.folder.path),
  });
  if (target !== null) await moveEntries(chosen, target);
}

/** Rename the row's item in place: its name becomes a field; Enter saves, Esc cancels. */
export function renameInPlace(key) {
  const entry = entries().find((candidate) => candidate.key === key);
  const row = [...$("file-rows").rows].find((candidate) => candidate.dataset.key === key);
  if (!entry || !row || state.trash) return;
  const cell = row.querySelector(".col-name");
  const before = [...cell.childNodes];
  const name = entry.kind === "file" ? entry.item.original_filename : entry.folder.name;
  const input = h("input", { type: "text", class: "rename-field", value: name, "aria-label": `New name for ${name}`, spellcheck: "false" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  cell.replaceChildren(input, error);
  input.focus();
  const dot = name.lastIndexOf(".");
  input.setSelectionRange(0, entry.kind === "file" && dot > 0 ? dot : name.length);
  let finished = false;
  const restore = () => {
    finished = true;
    cell.replaceChildren(...before);
    cell.querySelector(".file-name")?.focus();
  };
  input.addEventListener("keydown", async (event) => {
    event.stopPropagation();
    if (event.key === "Escape") {
      event.preventDefault();
      restore();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const wanted = input.value.trim();
      if (!wanted || wanted === name) return restore();
      input.disabled = true;
      try {
        finished = true;
        await renameEntry(entry, wanted);
      } catch (problem) {
        finished = false;
        input.disabled = false;
        error.textContent = errorText(problem);
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
  });
  input.addEventListener("blur", () => {
    if (!finished && !input.disabled) setTimeout(() => !finished && document.activeElement !== input && restore(), 0);
  });
}

/** Rows dragged onto a folder row or a breadcrumb move there (all the selected ones when
 * the dragged row is selected). */
export function setUpDragging() {
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const row = event.target.closest?.("#file-rows tr[draggable=true]");
    if (!row) return;
    const chosen = selectedEntries();
    const all = entries();
    dragged = chosen.some((entry) => entry.key === row.dataset.key) ? chosen : all.filter((entry) => entry.key === row.dataset.key);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("application/x-s3files-items", dragged.map((entry) => entry.key).join("\n"));
    row.classList.add("is-dragged");
  });
  document.addEventListener("dragend", () => {
    dragged = null;
    for (const node of document.querySelectorAll(".is-dragged, .is-drop-target")) node.classList.remove("is-dragged", "is-drop-target");
  });
  const targetOf = (event) => {
    const target = event.target.closest?.("[data-drop=folder]");
    if (!target || !dragged) return null;
    const path = target.dataset.path;
    const inside = dragged.some((entry) => entry.kind === "folder" && (path === entry.folder.path || path.startsWith(`${entry.folder.path}/`)));
    return inside ? null : target;
  };
  document.addEventListener("dragover", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const node of document.querySelectorAll(".is-drop-target")) if (node !== target) node.classList.remove("is-drop-target");
    target.classList.add("is-drop-target");
  });
  document.addEventListener("dragleave", (event) => {
    event.target.closest?.("[data-drop=folder]")?.classList.remove("is-drop-target");
  });
  document.addEventListener("drop", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    const chosen = dragged;
    dragged = null;
    target.classList.remove("is-drop-target");
    clearSelection();
    moveEntries(chosen, target.dataset.path);
  });
}
