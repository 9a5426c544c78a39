// What can be done to several items at once, or to a folder: trash and restore, delete for
// good, move, rename, download as a zip, new folder, empty the trash. Files go through
// /files/batch (one request for up to 1,000), folders through /folders.

import { h, quoted } from "./dom.js";
import { confirmAction, notify, notifyError } from "./messages.js";
import { api, baseName, hooks, parentOf, state } from "./state.js";
import { clearSelection } from "./selection.js";

const join = (folder, name) => (folder ? `${folder}/${name}` : name);
const files = (chosen) => chosen.filter((entry) => entry.kind === "file").map((entry) => entry.item);
const folders = (chosen) => chosen.filter((entry) => entry.kind === "folder").map((entry) => entry.folder);

function describe(chosen) {
  if (chosen.length === 1) return quoted(chosen[0].kind === "file" ? chosen[0].item.original_filename : chosen[0].folder.name);
  const parts = [];
  const f = folders(chosen).length;
  const n = files(chosen).length;
  if (f) parts.push(`${f} ${f === 1 ? "folder" : "folders"}`);
  if (n) parts.push(`${n} ${n === 1 ? "file" : "files"}`);
  return parts.join(" and ");
}

async function batch(action, items, folder) {
  if (!items.length) return { succeeded: 0, failed: 0, results: [] };
  const result = await api("POST", "/files/batch", { body: { action, ids: items.map((item) => item.id), folder } });
  if (result.failed) {
    const first = result.results.find((one) => !one.ok);
    throw Object.assign(new Error(first?.detail || "some items failed"), { code: first?.error, status: 409, partial: result });
  }
  return result;
}

function done(message, action = null) {
  clearSelection();
  hooks.refresh();
  notify(message, { action });
}

export async function trashEntries(chosen) {
  const label = describe(chosen);
  try {
    await batch("trash", files(chosen));
    for (const folder of folders(chosen)) await api("DELETE", "/folders", { query: { path: folder.path } });
    done(`Moved ${label} to the trash`, { label: "Undo", run: () => restoreEntries(chosen, { undo: true }) });
  } catch (error) {
    hooks.refresh();
    notifyError(error, "Could not move to the trash");
  }
}

export async function restoreEntries(chosen, { undo = false } = {}) {
  try {
    await batch("restore", files(chosen));
    for (const folder of folders(chosen)) await api("POST", "/folders/restore", { body: { path: folder.path } });
    done(undo ? `${describe(chosen)} ${chosen.length === 1 ? "is" : "are"} back` : `Restored ${describe(chosen)}`);
  } catch (error) {
    hooks.refresh();
    notifyError(error, "Could not restore");
  }
}

export async function deleteEntries(chosen) {
  const label = describe(chosen);
  const confirmed = await confirmAction({
    title: "Delete for good?",
    text: `${label} and ${chosen.length === 1 ? "its" : "their"} content will be removed from storage. This cannot be undone.`,
    confirm: "Delete for good",
  });
  if (!confirmed) return;
  try {
    await batch("delete", files(chosen));
    done(`Deleted ${label} for good`);
    hooks.usageChanged?.();
  } catch (error) {
    hooks.refresh();
    notifyError(error, "Could not delete");
  }
}

/** Move into `target` ("" the top level): files keep their names, folders go inside. */
export async function moveEntries(chosen, target) {
  const label = describe(chosen);
  const moving = files(chosen).filter((item) => item.folder !== target);
  const trees = folders(chosen).filter((folder) => parentOf(folder.path) !== target);
  if (!moving.length && !trees.length) {
    notify(`${label} ${chosen.length === 1 ? "is" : "are"} already there`);
    return;
  }
  try {
    await batch("move", moving, target);
    for (const folder of trees) await api("POST", "/folders/move", { body: { from: folder.path, to: join(target, folder.name) } });
    done(`Moved ${label} to ${target ? quoted(target) : "the top level"}`, { label: "Open", run: () => hooks.openFolder(target) });
  } catch (error) {
    hooks.refresh();
    notifyError(error, "Could not move");
  }
}

/** Rename a file or a folder; throws for the dialog or the field to show. */
export async function renameEntry(entry, name) {
  if (entry.kind === "file") {
    if (name === entry.item.original_filename) return entry.item;
    const record = await api("PATCH", `/files/${entry.item.id}`, { body: { name } });
    hooks.refresh();
    notify(`Renamed to ${quoted(record.original_filename)}`);
    return record;
  }
  const to = join(parentOf(entry.folder.path), name);
  if (to === entry.folder.path) return entry.folder;
  const result = await api("POST", "/folders/move", { body: { from: entry.folder.path, to } });
  hooks.refresh();
  notify(`Renamed folder to ${quoted(baseName(result.path))}`);
  return result;
}

export async function createFolder(name) {
  const path = join(state.folder, name.replace(/^\/+|\/+$/g, ""));
  const folder = await api("POST", "/folders", { body: { path } });
  hooks.refresh();
  notify(`Created folder ${quoted(folder.name || baseName(path))}`, { action: { label: "Open", run: () => hooks.openFolder(folder.path || path) } });
  return folder;
}

async function allIdsUnder(path) {
  const ids = [];
  let cursor;
  do {
    const page = await api("GET", "/files", { query: { folder: path, recursive: "true", limit: 200, cursor } });
    ids.push(...page.items.map((item) => item.id));
    cursor = page.next_cursor;
  } while (cursor && ids.length < 1000);
  return ids;
}

/** Goes to a download link: the browser streams the answer to disk, never into memory. */
function startDownload(url, name) {
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
}

/** A zip of the chosen items: one folder as it is, else the files (and folders' files).
 * The service signs a link for a few minutes (the key stays in this tab, out of the URL),
 * and the browser downloads from it as from any link. */
export async function zipEntries(chosen, button) {
  const previous = button?.textContent;
  if (button) Object.assign(button, { disabled: true, textContent: "Preparing zip…" });
  try {
    let link;
    let name;
    if (chosen.length === 1 && chosen[0].kind === "folder") {
      link = await api("POST", "/folders/zip-link", { body: { path: chosen[0].folder.path } });
      name = `${chosen[0].folder.name}.zip`;
    } else {
      const ids = files(chosen).map((item) => item.id);
      for (const folder of folders(chosen)) ids.push(...(await allIdsUnder(folder.path)));
      link = await api("POST", "/files/zip-link", { body: { ids } });
      name = `${state.folder ? baseName(state.folder) : "files"}.zip`;
    }
    startDownload(link.url, name);
    notify(`Downloading ${quoted(name)}`);
  } catch (error) {
    notifyError(error, "Could not make the zip");
  } finally {
    if (button) Object.assign(button, { disabled: false, textContent: previous });
  }
}

export async function emptyTrash() {
  const confirmed = await confirmAction({
    title: "Empty the trash?",
    text: "Every file in the trash will be removed from storage. This cannot be undone.",
    confirm: "Empty trash",
  });
  if (!confirmed) return;
  try {
    const result = await api("DELETE", "/trash");
    done(`Emptied the trash (${result.files} ${result.files === 1 ? "file" : "files"})`);
    hooks.usageChanged?.();
  } catch (error) {
    notifyError(error, "Could not empty the trash");
  }
}
