// s3files web file manager: plain DOM, no framework, no build step; ES modules served as they
// are from /static (index.html loads this one).
//
// Talks to the service's /api/v1 with the API key the user pasted (kept in sessionStorage);
// the bytes of uploads and downloads go straight to the store through URLs the service signs
// (presigned POST / multipart parts / presigned GET, or the service's own /store URLs on the
// local-disk store). Everything user-supplied is put in the page with textContent, never as HTML.
//
// The modules, each importing only ones above it in this list: api.js (the request helper,
// shared with uploader.js), dom.js, messages.js, state.js, route.js, panel.js, list.js, selection.js,
// bulk.js, dialogs.js, folders.js, preview.js, links.js, actions.js, details.js, auth.js,
// uploader.js, upload.js, and this one, which wires events and keys.

import { $, debounce } from "./dom.js";
import { hideToast } from "./messages.js";
import { fileKey, hooks, state, TOKEN_KEY } from "./state.js";
import { closeDetails, PHONE, updateInert } from "./panel.js";
import { entries, loadFiles, renderRows, renderView, sortBy } from "./list.js";
import { clearSelection, focusedKey, listKey, renderSelection, selectedEntries, setUpSelection } from "./selection.js";
import { deleteEntries, emptyTrash, restoreEntries, trashEntries, zipEntries } from "./bulk.js";
import { moveWithPicker, newFolder, renameInPlace, setUpDragging } from "./folders.js";
import { watchThumbnails } from "./preview.js";
import { openDetails } from "./details.js";
import { refreshUsage, showApp, showSignIn, signIn, signOut } from "./auth.js";
import { routeOf, showing, writeRoute } from "./route.js";
import { clearFinishedUploads, enqueue, setUpDropping, toggleUploads } from "./upload.js";

/** Shows a folder, or the trash, with a search: the list emptied and loaded again, and the
 * address written ("push", "replace", or null when the address is where it came from). */
function showView({ folder = state.folder, trash = false, search = "" }, how = "push") {
  Object.assign(state, { folder, trash, search, items: [], subfolders: [], cursor: null, anchor: null });
  state.selection.clear();
  $("search").value = search;
  closeDetails(false);
  renderView();
  renderRows();
  renderTrashActions();
  if (how) writeRoute(how);
  return loadFiles();
}

function openFolder(path, { replace = false } = {}) {
  showView({ folder: path }, replace ? "replace" : "push").then(() => {
    const first = $("file-rows").querySelector(".file-name");
    if (document.activeElement === document.body || !document.activeElement?.isConnected) (first || $("search")).focus();
  });
}

/** The view the address names (after sign-in, on Back and Forward, or a link followed). */
function showAddress() {
  const route = routeOf();
  if (showing(route) && (state.items.length || state.subfolders.length || state.loading)) return Promise.resolve();
  return showView({ ...route, folder: route.trash ? state.folder : route.folder }, null);
}

hooks.openDetails = openDetails;
hooks.signOut = signOut;
hooks.openFolder = openFolder;
hooks.showAddress = showAddress;
hooks.refresh = () => loadFiles();
hooks.selectionChanged = renderSelection;
hooks.rowsRendered = watchThumbnails;
hooks.usageChanged = refreshUsage;

/** The chosen items, or else the one whose row has the focus, or else the open file's. */
function targets() {
  const chosen = selectedEntries();
  if (chosen.length) return chosen;
  const key = focusedKey() || (state.selectedId ? fileKey(state.selectedId) : null);
  return entries().filter((entry) => entry.key === key);
}

/** F2: the focused row, else the only one selected, else the file whose details are open. */
function renameTarget() {
  const chosen = selectedEntries();
  const key = focusedKey() || (chosen.length === 1 ? chosen[0].key : null) || (state.selectedId ? fileKey(state.selectedId) : null);
  if (!key) return;
  if (state.selectedId && PHONE.matches) closeDetails(false); // it covers the row
  renameInPlace(key);
}

function setUpToolbar() {
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  const applySearch = debounce(() => {
    const value = $("search").value.trim();
    if (value === state.search) return;
    state.search = value;
    clearSelection();
    writeRoute("replace");
    loadFiles();
  }, 250);
  $("search").addEventListener("input", applySearch);
  $("trash-toggle").addEventListener("click", () => showView({ trash: !state.trash, search: state.search }));
  $("new-folder").addEventListener("click", newFolder);
  $("refresh").addEventListener("click", () => loadFiles());
  $("load-more").addEventListener("click", () => loadFiles({ append: true }));
  for (const button of document.querySelectorAll("#file-table .sort")) {
    button.addEventListener("click", () => sortBy(button.dataset.sort));
  }
  $("bulk-zip").addEventListener("click", () => zipEntries(selectedEntries(), $("bulk-zip")));
  $("bulk-move").addEventListener("click", () => moveWithPicker(selectedEntries()));
  $("bulk-trash").addEventListener("click", () => trashEntries(selectedEntries()));
  $("bulk-restore").addEventListener("click", () => restoreEntries(selectedEntries()));
  $("bulk-delete").addEventListener("click", () => deleteEntries(selectedEntries()));
  $("bulk-clear").addEventListener("click", clearSelection);
}

/** "Empty trash" sits beside Refresh while the trash is shown. */
function renderTrashActions() {
  let button = $("empty-trash");
  if (!button) {
    button = document.createElement("button");
    Object.assign(button, { type: "button", id: "empty-trash", className: "btn btn-small btn-danger-quiet", textContent: "Empty trash" });
    button.addEventListener("click", emptyTrash);
    $("refresh").before(button);
  }
  button.hidden = !state.trash;
}

function setUpUploads() {
  const input = $("file-input");
  const pick = () => input.click();
  $("upload-button").addEventListener("click", pick);
  $("dropzone").addEventListener("click", pick);
  input.addEventListener("change", () => {
    enqueue(input.files);
    input.value = "";
  });
  $("uploads-clear").addEventListener("click", clearFinishedUploads);
  $("uploads-toggle").addEventListener("click", toggleUploads);
  setUpDropping();
}

function onKey(event) {
  if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
  const typing = event.target instanceof HTMLElement && event.target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]");
  const inList = Boolean(event.target.closest?.("#file-rows"));
  // F2 and Delete act on the selection (or the open file) from the list, the details panel
  // or nowhere in particular; never from a field
  const onItems = !$("app-view").hidden && (event.target === document.body || event.target === $("main") || Boolean(event.target.closest?.(".files, #details")));
  if (event.key === "Escape" && !event.target.closest?.("textarea")) {
    if (state.selectedId && !$("details").hidden) {
      event.preventDefault();
      closeDetails();
    } else if (state.selection.size && !typing) {
      event.preventDefault();
      clearSelection();
    }
  } else if (event.key === "/" && !typing && !$("app-view").hidden) {
    event.preventDefault();
    $("search").focus();
  } else if (inList && !typing && listKey(event)) {
    event.preventDefault();
  } else if (!typing && !$("app-view").hidden && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "a" && event.target.closest?.(".files")) {
    event.preventDefault();
    listKey(event);
  } else if (onItems && !typing && event.key === "F2") {
    event.preventDefault();
    renameTarget();
  } else if (onItems && !typing && (event.key === "Delete" || (event.key === "Backspace" && event.metaKey))) {
    event.preventDefault();
    const chosen = targets();
    if (!chosen.length) return;
    if (state.trash) deleteEntries(chosen);
    else trashEntries(chosen);
  } else if (event.key === "Backspace" && !typing && state.folder && !state.trash && !$("app-view").hidden) {
    event.preventDefault();
    openFolder(state.folder.includes("/") ? state.folder.slice(0, state.folder.lastIndexOf("/")) : "");
  }
}

function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("api-key").addEventListener("input", () => {
    $("sign-in-error").hidden = true;
    $("api-key").setAttribute("aria-invalid", "false");
  });
  $("sign-out").addEventListener("click", () => signOut());
  setUpToolbar();
  setUpUploads();
  setUpSelection();
  setUpDragging();
  $("details-close").addEventListener("click", () => closeDetails());
  PHONE.addEventListener("change", updateInert);
  $("toast-close").addEventListener("click", hideToast);
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", (event) => {
    if (state.uploads.some((upload) => upload.status === "uploading" || upload.status === "queued")) event.preventDefault();
  });

  window.addEventListener("popstate", () => state.token && showAddress()); // Back, Forward, a link
  state.token = sessionStorage.getItem(TOKEN_KEY);
  if (state.token) {
    showApp();
    showAddress();
  } else {
    showSignIn();
  }
  document.documentElement.dataset.ready = "true";
}


start();
