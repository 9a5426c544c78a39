// The file list: the view's headings (files or trash), loading pages of files with the
// search and folder filters, the table rows, and keeping the list in step with changes.

import { $, h, icon, ICONS, formatBytes, friendlyType, quoted, timeElement } from "./dom.js";
import { errorText, notifyError } from "./messages.js";
import { closeDetails } from "./panel.js";
import { api, hooks, PAGE_SIZE, state } from "./state.js";

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
  $("uploads").hidden = trash || state.uploads.length === 0; // they go on meanwhile
  $("date-column").textContent = trash ? "Deleted" : "Modified";
  $("files-heading").textContent = trash
    ? "In the trash"
    : state.folder ? `Folder ${quoted(state.folder)}` : "All files";
  $("dropzone-hint").textContent = `Files go to ${state.folder ? `folder ${quoted(state.folder)}` : "the top level"}.`;
  document.title = `${trash ? "Trash" : "Files"} · s3files`;
}

function filtersActive() {
  return Boolean(state.search || state.folder);
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
  } else if (!state.items.length) {
    $("files-count").textContent = "Loading…";
  }
  try {
    const page = await api("GET", "/files", {
      query: {
        search: state.search,
        folder: state.folder,
        deleted: state.trash ? "true" : undefined,
        cursor: append ? state.cursor : undefined,
        limit: PAGE_SIZE,
      },
    });
    if (seq !== state.listSeq) return; // a newer request is on its way
    state.items = append ? [...state.items, ...page.items] : page.items;
    state.cursor = page.next_cursor;
    for (const item of page.items) rememberFolder(item.folder);
    renderRows();
    if (state.selectedId && !state.items.some((item) => item.id === state.selectedId)) closeDetails(false);
  } catch (error) {
    if (seq !== state.listSeq) return;
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

function rememberFolder(folder) {
  if (!folder || state.folders.has(folder)) return;
  state.folders.add(folder);
  const options = [...state.folders].sort((a, b) => a.localeCompare(b)).map((name) => h("option", { value: name }));
  $("folder-options").replaceChildren(...options);
}

export function renderRows(failure = "") {
  const rows = state.items.map(rowFor);
  $("file-rows").replaceChildren(...rows);
  $("file-table").hidden = rows.length === 0;
  $("load-more").hidden = !state.cursor;
  const shown = state.items.length;
  $("files-count").textContent = failure
    ? ""
    : `${shown}${state.cursor ? "+" : ""} ${shown === 1 && !state.cursor ? "file" : "files"}`;
  const empty = $("empty");
  empty.hidden = rows.length > 0;
  if (rows.length === 0) {
    const action = $("empty-action");
    action.hidden = true;
    if (failure) {
      $("empty-title").textContent = "The files could not be loaded";
      $("empty-text").textContent = failure;
      Object.assign(action, { hidden: false, textContent: "Try again", onclick: () => loadFiles() });
    } else if (filtersActive()) {
      const parts = [];
      if (state.search) parts.push(`named like ${quoted(state.search)}`);
      if (state.folder) parts.push(`in folder ${quoted(state.folder)}`);
      $("empty-title").textContent = state.trash ? "Nothing in the trash matches" : "No files match";
      $("empty-text").textContent = `No ${state.trash ? "deleted " : ""}files ${parts.join(" ")}.`;
      Object.assign(action, { hidden: false, textContent: "Clear filters", onclick: clearFilters });
    } else if (state.trash) {
      $("empty-title").textContent = "The trash is empty";
      $("empty-text").textContent = "Files you move to the trash show up here until you delete them for good.";
    } else {
      $("empty-title").textContent = "No files yet";
      $("empty-text").textContent = "Drop files above, or use “Upload files”.";
    }
  }
}

function rowFor(item) {
  const selected = item.id === state.selectedId;
  const nameButton = h(
    "button",
    {
      type: "button",
      class: "file-name",
      "aria-controls": "details",
      "aria-expanded": String(selected),
      onclick: (event) => {
        event.stopPropagation();
        hooks.openDetails(item.id);
      },
    },
    icon(ICONS.file),
    h("span", { class: "file-name-text" }, item.original_filename),
  );
  const date = state.trash ? item.deleted_at : item.last_modified;
  return h(
    "tr",
    {
      dataset: { id: item.id },
      class: selected ? "is-selected" : "",
      onclick: () => hooks.openDetails(item.id),
    },
    h("th", { scope: "row", class: "cell-name", "data-label": "Name" }, nameButton),
    h("td", { "data-label": "Folder", class: item.folder ? "" : "muted" }, item.folder || "—"),
    h("td", { "data-label": "Size", class: "num" }, formatBytes(item.file_size)),
    h("td", { "data-label": "Type", title: item.content_type }, friendlyType(item.content_type)),
    h("td", { "data-label": state.trash ? "Deleted" : "Modified" }, timeElement(date)),
    h("td", { class: "cell-badge", "data-label": "Visibility" },
      item.is_public ? h("span", { class: "badge badge-public" }, icon(ICONS.globe), "Public") : h("span", { class: "visually-hidden" }, "Private")),
  );
}

function clearFilters() {
  state.search = "";
  state.folder = "";
  $("search").value = "";
  $("folder").value = "";
  renderView();
  loadFiles();
  $("search").focus();
}

export function replaceItem(record) {
  state.items = state.items.map((item) => (item.id === record.id ? record : item));
  renderRows();
}

export function removeItem(id) {
  state.items = state.items.filter((item) => item.id !== id);
  renderRows();
}

export function matchesView(record) {
  if (state.trash) return false;
  if (state.folder && record.folder !== state.folder) return false;
  if (state.search && !record.original_filename.toLowerCase().includes(state.search.toLowerCase())) return false;
  return true;
}

export function addItem(record) {
  rememberFolder(record.folder);
  if (!matchesView(record) || state.items.some((item) => item.id === record.id)) return;
  state.items = [record, ...state.items];
  renderRows();
}
