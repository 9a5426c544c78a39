// The list: the folder shown (breadcrumbs, its subfolders first, then its files) or the
// trash, loaded a page at a time in the order of the column chosen (sorted by the service,
// so that paging stays right), and kept in step with changes.

import { $, h, icon, ICONS, formatBytes, friendlyType, quoted, rowDate, typeIcon } from "./dom.js";
import { errorText, notifyError } from "./messages.js";
import { closeDetails } from "./panel.js";
import { api, fileKey, folderKey, hooks, PAGE_SIZE, state } from "./state.js";

const DEFAULT_ORDER = { name: "asc", type: "asc", size: "desc", modified: "desc" };

export function renderView() {
  const trash = state.trash;
  $("view-heading").textContent = trash ? "Trash" : "Files";
  $("view-sub").textContent = trash
    ? "Files moved to the trash. Restore them, or delete them for good."
    : "Uploads go straight to storage; the service signs and checks them.";
  $("trash-toggle").classList.toggle("is-active", trash); // its label says where it leads
  $("trash-toggle").querySelector("span").textContent = trash ? "Back to files" : "Trash";
  $("trash-toggle").querySelector("path").setAttribute("d", trash ? ICONS.back : ICONS.trash);
  $("dropzone").hidden = trash;
  $("upload-button").hidden = trash;
  $("new-folder").hidden = trash;
  $("uploads").hidden = trash || state.uploads.length === 0; // they go on meanwhile
  $("search-label").textContent = trash ? "Search the trash" : "Search in this folder";
  $("date-column").textContent = trash ? "Deleted" : "Modified";
  $("file-table").classList.toggle("show-folder", trash);
  $("file-table").classList.toggle("show-owner", Boolean(state.me?.admin)); // an admin sees everyone's
  $("files-heading").textContent = trash ? "In the trash" : state.folder ? `Folder ${quoted(state.folder)}` : "All files";
  $("dropzone-hint").textContent = `Files go to ${state.folder ? `folder ${quoted(state.folder)}` : "the top level"}.`;
  document.title = `${trash ? "Trash" : state.folder ? state.folder : "Files"} · s3files`;
  renderCrumbs();
  renderSort();
}

function renderCrumbs() {
  const crumbs = [];
  if (state.trash) {
    crumbs.push(h("li", {}, h("span", { class: "crumb", "aria-current": "location" }, "Trash")));
  } else {
    const parts = state.folder ? state.folder.split("/") : [];
    const crumb = (label, path, current) =>
      h("li", {}, h("button", { type: "button", class: "crumb", dataset: { path, drop: "folder" }, "aria-current": current ? "location" : null, onclick: () => hooks.openFolder(path) }, label));
    crumbs.push(crumb("All files", "", parts.length === 0));
    parts.forEach((part, index) => crumbs.push(crumb(part, parts.slice(0, index + 1).join("/"), index === parts.length - 1)));
  }
  $("crumbs").replaceChildren(...crumbs);
}

function renderSort() {
  for (const button of document.querySelectorAll("#file-table .sort")) {
    const on = button.dataset.sort === state.sort;
    button.closest("th").setAttribute("aria-sort", on ? (state.order === "asc" ? "ascending" : "descending") : "none");
    button.dataset.order = on ? state.order : "";
  }
}

export function sortBy(field) {
  if (state.sort === field) state.order = state.order === "asc" ? "desc" : "asc";
  else Object.assign(state, { sort: field, order: DEFAULT_ORDER[field] || "asc" });
  renderSort();
  loadFiles();
}

function sortedFolders(folders) {
  const sign = state.order === "asc" ? 1 : -1;
  const by = {
    size: (a, b) => a.bytes - b.bytes,
    type: (a, b) => a.files - b.files,
  }[state.sort] || ((a, b) => a.name.localeCompare(b.name));
  const wanted = state.search.toLowerCase();
  return folders.filter((folder) => !wanted || folder.name.toLowerCase().includes(wanted)).sort((a, b) => sign * by(a, b) || a.name.localeCompare(b.name));
}

export async function loadFiles({ append = false } = {}) {
  if (!state.token) return;
  const seq = ++state.listSeq;
  state.loading = true;
  const table = $("file-table");
  table.setAttribute("aria-busy", "true");
  const more = $("load-more");
  if (append) {
    more.disabled = true;
    more.textContent = "Loading…";
  } else if (!state.items.length && !state.subfolders.length) {
    $("files-count").textContent = "Loading…";
  }
  try {
    // folder= (empty) is the top level: written into the path, as the query helper leaves
    // empty values out
    const path = state.trash ? "/files" : `/files?folder=${encodeURIComponent(state.folder)}`;
    const files = api("GET", path, {
      query: {
        search: state.search,
        deleted: state.trash ? "true" : undefined,
        cursor: append ? state.cursor : undefined,
        limit: PAGE_SIZE,
        sort: state.sort,
        order: state.order,
      },
    });
    const folders = append || state.trash ? null : api("GET", "/folders", { query: { path: state.folder, limit: 1000 } });
    const [page, subfolders] = await Promise.all([files, folders]);
    if (seq !== state.listSeq) return; // a newer request is on its way
    state.items = append ? [...state.items, ...page.items] : page.items;
    if (subfolders) state.subfolders = subfolders.items;
    else if (state.trash) state.subfolders = [];
    state.cursor = page.next_cursor;
    renderRows();
    if (state.selectedId && !state.items.some((item) => item.id === state.selectedId)) closeDetails(false);
  } catch (error) {
    if (seq !== state.listSeq) return;
    if (error.status === 404 && !append && state.folder && !state.trash) {
      hooks.openFolder("", { replace: true }); // the folder went away (moved or deleted elsewhere)
      return;
    }
    if (error.status !== 401) {
      renderRows(errorText(error));
      notifyError(error);
    }
  } finally {
    if (seq === state.listSeq) {
      state.loading = false;
      table.removeAttribute("aria-busy");
      more.disabled = false;
      more.textContent = "Load more";
    }
  }
}

/** What the list shows, in order: folders first, then files ({kind, key, ...}). */
export function entries() {
  const folders = state.trash ? [] : sortedFolders(state.subfolders);
  return [
    ...folders.map((folder) => ({ kind: "folder", key: folderKey(folder.path), folder })),
    ...state.items.map((item) => ({ kind: "file", key: fileKey(item.id), item })),
  ];
}

export function renderRows(failure = "") {
  const shown = entries();
  const rows = shown.map((entry) => (entry.kind === "folder" ? folderRow(entry.folder) : fileRow(entry.item)));
  $("file-rows").replaceChildren(...rows);
  $("file-table").hidden = rows.length === 0;
  $("load-more").hidden = !state.cursor;
  const files = state.items.length;
  const folders = shown.length - files;
  const parts = [];
  if (folders) parts.push(`${folders} ${folders === 1 ? "folder" : "folders"}`);
  parts.push(`${files}${state.cursor ? "+" : ""} ${files === 1 && !state.cursor ? "file" : "files"}`);
  $("files-count").textContent = failure ? "" : parts.join(" · ");
  renderEmpty(rows.length === 0, failure);
  const emptyTrash = $("empty-trash"); // nothing to empty: the trash's list, unfiltered, is empty
  if (emptyTrash) emptyTrash.disabled = state.trash && !state.search && (Boolean(failure) || files === 0);
  hooks.selectionChanged();
  hooks.rowsRendered?.();
}

function renderEmpty(empty, failure) {
  $("empty").hidden = !empty;
  if (!empty) return;
  const action = $("empty-action");
  action.hidden = true;
  const say = (title, text) => {
    $("empty-title").textContent = title;
    $("empty-text").textContent = text;
  };
  if (failure) {
    say("The files could not be loaded", failure);
    Object.assign(action, { hidden: false, textContent: "Try again", onclick: () => loadFiles() });
  } else if (state.search) {
    say(state.trash ? "Nothing in the trash matches" : "No files match", `No ${state.trash ? "deleted " : ""}files named like ${quoted(state.search)}${state.folder && !state.trash ? ` in ${quoted(state.folder)}` : ""}.`);
    Object.assign(action, { hidden: false, textContent: "Clear search", onclick: clearSearch });
  } else if (state.trash) {
    say("The trash is empty", "Files you move to the trash show up here until you delete them for good.");
  } else if (state.folder) {
    say("This folder is empty", "Drop files here, or use “Upload files”.");
  } else {
    say("No files yet", "Drop files above, or use “Upload files”.");
  }
}

function selectBox(key, label) {
  return h("td", { class: "col-select" }, h("input", { type: "checkbox", class: "select", checked: state.selection.has(key), "aria-label": `Select ${label}`, tabindex: "-1" }));
}

function folderRow(folder) {
  const key = folderKey(folder.path);
  const open = h("button", { type: "button", class: "file-name", dataset: { open: "folder" }, onclick: (event) => {
    event.stopPropagation();
    hooks.openFolder(folder.path);
  } }, icon(ICONS.folder), h("span", { class: "file-name-text" }, folder.name));
  const count = `${folder.files} ${folder.files === 1 ? "file" : "files"}`;
  return h(
    "tr",
    { dataset: { key, kind: "folder", path: folder.path, drop: "folder" }, class: "is-folder", "aria-selected": String(state.selection.has(key)), draggable: "true" },
    selectBox(key, `folder ${folder.name}`),
    h("th", { scope: "row", class: "col-name", "data-label": "Name" }, open),
    h("td", { class: "col-owner" }),
    h("td", { class: "col-folder" }),
    h("td", { "data-label": "Size", class: "col-size num" }, formatBytes(folder.bytes)),
    h("td", { "data-label": "Contents", class: "col-type" }, `Folder · ${count}`),
    h("td", { "data-label": "Modified", class: "col-date muted" }, "—"),
    h("td", { class: "col-badge" }),
  );
}

function fileRow(item) {
  const key = fileKey(item.id);
  const selected = item.id === state.selectedId;
  const nameButton = h(
    "button",
    { type: "button", class: "file-name", "aria-controls": "details", "aria-expanded": String(selected), onclick: (event) => {
      event.stopPropagation();
      hooks.openDetails(item.id);
    } },
    h("span", { class: "thumb", dataset: { thumb: item.id, type: item.content_type } }, icon(typeIcon(item.content_type))),
    h("span", { class: "file-name-text" }, item.original_filename),
  );
  const date = state.trash ? item.deleted_at : item.last_modified;
  return h(
    "tr",
    { dataset: { key, kind: "file", id: item.id }, class: selected ? "is-open" : "", "aria-selected": String(state.selection.has(key)), draggable: state.trash ? null : "true" },
    selectBox(key, item.original_filename),
    h("th", { scope: "row", class: "col-name", "data-label": "Name" }, nameButton),
    h("td", { "data-label": "Owner", class: "col-owner" }, item.owner),
    h("td", { "data-label": "Folder", class: `col-folder${item.folder ? "" : " muted"}` }, item.folder || "—"),
    h("td", { "data-label": "Size", class: "col-size num" }, formatBytes(item.file_size)),
    h("td", { "data-label": "Type", class: "col-type", title: item.content_type }, friendlyType(item.content_type)),
    h("td", { "data-label": state.trash ? "Deleted" : "Modified", class: "col-date" }, rowDate(date)),
    h("td", { class: "col-badge", "data-label": "Visibility" },
      item.is_public ? h("span", { class: "badge badge-public" }, icon(ICONS.globe), "Public") : h("span", { class: "visually-hidden" }, "Private")),
  );
}

function clearSearch() {
  state.search = "";
  $("search").value = "";
  loadFiles();
  $("search").focus();
}

export function replaceItem(record) {
  state.items = state.items.map((item) => (item.id === record.id ? record : item));
  renderRows();
}

export function removeItems(ids) {
  const gone = new Set(ids);
  state.items = state.items.filter((item) => !gone.has(item.id));
  for (const id of ids) state.selection.delete(fileKey(id));
  renderRows();
}

export function removeItem(id) {
  removeItems([id]);
}

export function matchesView(record) {
  if (state.trash) return false;
  if (record.folder !== state.folder) return false;
  if (state.search && !record.original_filename.toLowerCase().includes(state.search.toLowerCase())) return false;
  return true;
}

export function addItem(record) {
  if (!matchesView(record) || state.items.some((item) => item.id === record.id)) return;
  state.items = [record, ...state.items];
  renderRows();
}
