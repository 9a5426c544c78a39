// s3files web file manager: plain DOM, no framework, no build step.
//
// Talks to the service's /api/v1 with the API key the user pasted (kept in sessionStorage);
// the bytes of uploads and downloads go straight to the store through URLs the service signs
// (presigned POST / multipart parts / presigned GET, or the service's own /store URLs on the
// local-disk store). Everything user-supplied is put in the page with textContent, never as HTML.

import { Uploader, UploadError } from "./uploader.js";

const API = new URL("../api/v1", import.meta.url).href;
const TOKEN_KEY = "s3files:api-key";
const params = new URLSearchParams(location.search);
const PART_THRESHOLD = Number(params.get("partThreshold")) || undefined; // for tests; else the uploader's default
const PAGE_SIZE = Math.min(Math.max(Number(params.get("pageSize")) || 50, 1), 200);
const PARALLEL_FILES = 2;
const SHARE_LINK_SECONDS = 3600; // capped by the service's S3_PRESIGNED_URL_EXPIRY

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  trash: false,
  search: "",
  folder: "",
  items: [],
  cursor: null,
  loading: false,
  listSeq: 0,
  selectedId: null,
  folders: new Set(),
  uploads: [],
};

// ---------------------------------------------------------------------------------------
// Small helpers

function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (["value", "checked", "disabled", "readOnly", "hidden"].includes(name)) element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

function icon(path) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

const ICONS = {
  download: "M12 4v12m0 0-4.5-4.5M12 16l4.5-4.5M4 17v1.5A1.5 1.5 0 0 0 5.5 20h13a1.5 1.5 0 0 0 1.5-1.5V17",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  copy: "M8 8V5.5A1.5 1.5 0 0 1 9.5 4h9A1.5 1.5 0 0 1 20 5.5v9a1.5 1.5 0 0 1-1.5 1.5H16M5.5 8h9A1.5 1.5 0 0 1 16 9.5v9a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 4 18.5v-9A1.5 1.5 0 0 1 5.5 8z",
  trash: "M4 7h16M9 7V4.5h6V7m-8.5 0 1 12.5a1.5 1.5 0 0 0 1.5 1.4h6a1.5 1.5 0 0 0 1.5-1.4l1-12.5",
  restore: "M4 12a8 8 0 1 0 2.3-5.7M4 4v4.5h4.5",
  back: "M19 12H5m0 0 6-6m-6 6 6 6",
  file: "M7 3.5h6.5L18 8v11a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 6 19V5a1.5 1.5 0 0 1 1-1.5zM13 3.5V8h5",
  globe: "M12 20a8 8 0 1 0 0-16 8 8 0 0 0 0 16zm-8-8h16M12 4c2.2 2.2 3 5 3 8s-.8 5.8-3 8c-2.2-2.2-3-5-3-8s.8-5.8 3-8z",
};

function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  const digits = value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

function formatDate(text) {
  if (!text) return "—";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : dateFormat.format(date);
}

function timeElement(text) {
  return h("time", { datetime: text || "" }, formatDate(text));
}

const FRIENDLY_TYPES = {
  "application/pdf": "PDF",
  "text/plain": "Text",
  "text/csv": "CSV",
  "text/markdown": "Markdown",
  "application/json": "JSON",
  "application/zip": "ZIP archive",
  "application/msword": "Word",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
  "application/vnd.ms-excel": "Excel",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
  "application/octet-stream": "Binary",
};

function friendlyType(contentType) {
  const type = (contentType || "").split(";")[0].trim().toLowerCase();
  if (FRIENDLY_TYPES[type]) return FRIENDLY_TYPES[type];
  const [major, minor = ""] = type.split("/");
  if (["image", "video", "audio"].includes(major)) return `${minor.replace(/^x-/, "").toUpperCase()} ${major}`;
  return minor ? minor.replace(/^(x-|vnd\.)/, "") : "—";
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function quoted(text) {
  return `“${text}”`;
}

function folderLabel(folder) {
  return folder ? quoted(folder) : "the top level";
}

// ---------------------------------------------------------------------------------------
// Errors: the API's stable codes become sentences; nothing raw reaches the page.

function limitFrom(error) {
  if (Number.isFinite(error?.limit)) return error.limit;
  const match = /(?:limit of|policy's) (\d+) bytes/.exec(error?.message || "");
  return match ? Number(match[1]) : null;
}

function formatLimit(bytes) {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1) return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  return formatBytes(bytes);
}

function cleanDetail(detail) {
  if (!detail || typeof detail !== "string") return "";
  const text = detail.split("\n")[0].trim(); // never a traceback, at most one line
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** {message, detail} for an error from the API, the store or the network. */
function describeError(error) {
  const code = error?.code || "";
  const detail = cleanDetail(error?.message);
  switch (code) {
    case "file_too_large":
    case "EntityTooLarge": {
      const limit = limitFrom(error);
      return { message: limit ? `This file is larger than the limit (${formatLimit(limit)})` : "This file is larger than the limit" };
    }
    case "unsupported_file_type":
    case "extension_not_allowed":
    case "mime_type_not_allowed":
    case "type_mismatch":
      return { message: "This type of file is not allowed", detail };
    case "expired_signature":
    case "invalid_signature":
    case "AccessDenied":
    case "policy_violation":
      return { message: "The upload link expired — try again" };
    case "network_error":
      return { message: "Cannot reach the service", detail: "Check your connection and try again." };
    case "empty_file":
      return { message: "This file is empty" };
    case "checksum_mismatch":
      return { message: "The file changed while it was uploading — try again" };
    case "unauthorized":
      return { message: "That key was not accepted" };
    case "not_found":
      return { message: "This file no longer exists", detail: "Someone may have moved or deleted it." };
    case "store_unavailable":
    case "throttled":
    case "SlowDown":
    case "ServiceUnavailable":
      return { message: "The storage is busy or unavailable — try again in a moment" };
    case "invalid_field":
    case "invalid_metadata":
    case "metadata_too_large":
    case "invalid_folder":
    case "invalid_filename":
    case "validation_error":
    case "invalid_input":
      return { message: "Some of the values were not accepted", detail };
    case "upload_rejected":
      return { message: "The upload was refused", detail };
    case "aborted":
      return { message: "Cancelled" };
    case "internal_error":
      return { message: "The service ran into a problem — try again" };
    default:
      return { message: detail ? `Something went wrong: ${detail}` : "Something went wrong — try again" };
  }
}

function errorText(error) {
  const { message, detail } = describeError(error);
  return detail ? `${message}: ${detail}` : message;
}

// ---------------------------------------------------------------------------------------
// Messages: one visible toast, and live regions for screen readers.

let toastTimer;

function notify(text, { kind = "info", action = null, sticky = kind === "error", announce = text } = {}) {
  const toast = $("toast");
  toast.dataset.kind = kind;
  $("toast-text").textContent = text;
  const button = $("toast-action");
  button.hidden = !action;
  button.onclick = null;
  if (action) {
    button.textContent = action.label;
    button.onclick = () => {
      hideToast();
      action.run();
    };
  }
  toast.hidden = false;
  const live = kind === "error" ? $("live-alert") : $("live-status");
  live.textContent = "";
  requestAnimationFrame(() => {
    live.textContent = announce;
  });
  clearTimeout(toastTimer);
  if (!sticky) toastTimer = setTimeout(hideToast, action || kind === "error" ? 10000 : 5000);
}

function notifyError(error, prefix = "") {
  if (error?.status === 401) return; // handled: back to sign-in
  notify(prefix ? `${prefix}: ${errorText(error)}` : errorText(error), { kind: "error" });
}

function hideToast() {
  clearTimeout(toastTimer);
  $("toast").hidden = true;
}

// ---------------------------------------------------------------------------------------
// API

async function api(method, path, { query = {}, body, token = state.token } = {}) {
  const url = new URL(API + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new UploadError("network_error", "could not reach the s3files service", 0);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new UploadError(data?.error || `http_${response.status}`, data?.detail || response.statusText, response.status);
    if (response.status === 401 && token === state.token && state.token) signOut("Your key is no longer accepted — sign in again.");
    throw error;
  }
  return data;
}

// ---------------------------------------------------------------------------------------
// Sign in / out

function showSignIn(message = "") {
  $("app-view").hidden = true;
  $("session").hidden = true;
  $("sign-in-view").hidden = false;
  const error = $("sign-in-error");
  error.textContent = message;
  error.hidden = !message;
  $("api-key").setAttribute("aria-invalid", message ? "true" : "false");
  if (message) $("live-alert").textContent = message;
  document.title = "Sign in · s3files";
  $("api-key").focus();
}

function showApp() {
  $("sign-in-view").hidden = true;
  $("app-view").hidden = false;
  $("session").hidden = false;
  $("session-label").textContent = `Key ${state.token.slice(0, 12)}…`;
  $("session-label").title = "The API key this tab is signed in with";
  renderView();
}

async function signIn(event) {
  event.preventDefault();
  const input = $("api-key");
  const token = input.value.trim();
  if (!token) {
    showSignIn("Paste an API key first");
    return;
  }
  const submit = $("sign-in-submit");
  submit.disabled = true;
  submit.textContent = "Checking…";
  try {
    await api("GET", "/files", { query: { limit: 1 }, token });
  } catch (error) {
    showSignIn(error.status === 401 ? "That key was not accepted" : errorText(error));
    input.select();
    return;
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.token = token;
  input.value = "";
  showApp();
  $("main").focus();
  notify("Signed in");
  await loadFiles();
}

function signOut(message = "") {
  for (const upload of state.uploads) upload.controller?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, items: [], cursor: null, selectedId: null, uploads: [], trash: false, search: "", folder: "" });
  state.folders.clear();
  state.listSeq += 1;
  $("search").value = "";
  $("folder").value = "";
  $("upload-list").replaceChildren();
  $("uploads").hidden = true;
  $("file-rows").replaceChildren();
  closeDetails(false);
  hideToast();
  showSignIn(message);
}

// ---------------------------------------------------------------------------------------
// The list

function renderView() {
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

async function loadFiles({ append = false } = {}) {
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

function renderRows(failure = "") {
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
        openDetails(item.id);
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
      onclick: () => openDetails(item.id),
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

function replaceItem(record) {
  state.items = state.items.map((item) => (item.id === record.id ? record : item));
  renderRows();
}

function removeItem(id) {
  state.items = state.items.filter((item) => item.id !== id);
  renderRows();
}

function matchesView(record) {
  if (state.trash) return false;
  if (state.folder && record.folder !== state.folder) return false;
  if (state.search && !record.original_filename.toLowerCase().includes(state.search.toLowerCase())) return false;
  return true;
}

function addItem(record) {
  rememberFolder(record.folder);
  if (!matchesView(record) || state.items.some((item) => item.id === record.id)) return;
  state.items = [record, ...state.items];
  renderRows();
}

// ---------------------------------------------------------------------------------------
// Details panel

function openDetails(id, { focus = true } = {}) {
  const item = state.items.find((candidate) => candidate.id === id);
  if (!item) return;
  state.selectedId = id;
  for (const row of $("file-rows").rows) {
    const on = row.dataset.id === id;
    row.classList.toggle("is-selected", on);
    row.querySelector(".file-name")?.setAttribute("aria-expanded", String(on));
  }
  renderDetails(item);
  $("details").hidden = false;
  $("workspace").classList.add("has-details");
  document.body.classList.add("details-open");
  updateInert();
  if (focus) $("details-heading").focus();
}

// At phone width the details panel covers the page: what is under it must not take focus.
const PHONE = window.matchMedia("(max-width: 760px)");
const UNDER_DETAILS = [".topbar", ".page-head", "#filters", "#dropzone", "#uploads", ".files"];

function updateInert() {
  const cover = PHONE.matches && !$("details").hidden;
  for (const selector of UNDER_DETAILS) document.querySelector(selector).inert = cover;
}

function closeDetails(returnFocus = true) {
  const id = state.selectedId;
  state.selectedId = null;
  $("details").hidden = true;
  $("workspace").classList.remove("has-details");
  document.body.classList.remove("details-open");
  updateInert();
  for (const row of $("file-rows").rows) {
    row.classList.remove("is-selected");
    row.querySelector(".file-name")?.setAttribute("aria-expanded", "false");
  }
  if (returnFocus && id) {
    const button = [...$("file-rows").rows].find((row) => row.dataset.id === id)?.querySelector(".file-name");
    (button || $("search")).focus();
  }
}

/** Disable a button while its action runs, with a label saying so; returns the undo. */
function busy(button, label) {
  const previous = [...button.childNodes].map((node) => node.cloneNode(true));
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (label) button.lastChild.textContent = label;
  return () => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.replaceChildren(...previous);
  };
}

function renderDetails(item) {
  $("details-heading").textContent = item.original_filename;
  const facts = h(
    "dl",
    { class: "facts" },
    fact("Size", `${formatBytes(item.file_size)}${item.file_size >= 1024 ? ` (${item.file_size.toLocaleString()} bytes)` : ""}`),
    fact("Type", item.content_type),
    fact("Folder", item.folder || "Top level"),
    fact(state.trash ? "Deleted" : "Modified", timeElement(state.trash ? item.deleted_at : item.last_modified)),
    fact("Uploaded", timeElement(item.created_at)),
    fact("Visibility", item.is_public ? "Public" : "Private"),
    item.sha256 ? fact("SHA-256", h("code", { class: "hash", title: item.sha256 }, item.sha256)) : null,
    fact("ID", h("code", { class: "hash" }, item.id)),
  );
  const body = state.trash ? trashDetails(item) : activeDetails(item);
  $("details-body").replaceChildren(facts, ...body);
}

function fact(term, value) {
  return h("div", { class: "fact" }, h("dt", {}, term), h("dd", {}, value));
}

function activeDetails(item) {
  // Download and share --------------------------------------------------------------
  const linkBox = h("div", { class: "link-box", hidden: true });
  const downloadButton = h("button", { type: "button", class: "btn btn-primary", id: "download" }, icon(ICONS.download), h("span", {}, "Download"));
  downloadButton.addEventListener("click", () => download(item, downloadButton));
  const linkButton = h("button", { type: "button", class: "btn", id: "copy-link" }, icon(ICONS.link), h("span", {}, "Copy link"));
  linkButton.addEventListener("click", () => copyLink(item, linkButton, linkBox));
  const share = h("div", { class: "detail-section" }, h("div", { class: "actions" }, downloadButton, linkButton), linkBox);

  // Public / private ------------------------------------------------------------------
  const publicLink = publicLinkBox(item);
  const toggle = h("input", { type: "checkbox", id: "public-toggle", role: "switch", checked: item.is_public, "aria-describedby": "public-hint" });
  toggle.addEventListener("change", () => setPublic(item, toggle, publicLink));
  const visibility = h(
    "section",
    { class: "detail-section", "aria-labelledby": "visibility-heading" },
    h("h3", { id: "visibility-heading" }, "Visibility"),
    h("div", { class: "switch-row" },
      h("label", { class: "switch", for: "public-toggle" }, toggle, h("span", { class: "switch-track", "aria-hidden": "true" }), h("span", {}, "Public")),
    ),
    h("p", { class: "muted small", id: "public-hint" }, "Public files can be downloaded by anyone who has their link, without a key."),
    publicLink,
  );

  // Description and metadata -----------------------------------------------------------
  const description = h("textarea", { id: "edit-description", rows: "2", maxlength: "10000", value: item.description || "" });
  const metadata = h("textarea", {
    id: "edit-metadata",
    rows: "5",
    spellcheck: "false",
    class: "mono",
    "aria-describedby": "metadata-hint metadata-error",
    value: Object.keys(item.metadata || {}).length ? JSON.stringify(item.metadata, null, 2) : "{}",
  });
  const formError = h("p", { class: "field-error", id: "metadata-error", hidden: true });
  const saved = h("span", { class: "saved muted small", role: "status" });
  const saveButton = h("button", { type: "submit", class: "btn btn-primary", id: "save-details" }, h("span", {}, "Save changes"));
  const editForm = h(
    "form",
    { class: "detail-section stack", id: "edit-form", "aria-labelledby": "edit-heading", novalidate: true },
    h("h3", { id: "edit-heading" }, "Description and metadata"),
    h("div", { class: "field" }, h("label", { for: "edit-description" }, "Description"), description),
    h("div", { class: "field" },
      h("label", { for: "edit-metadata" }, "Metadata"),
      h("p", { class: "muted small", id: "metadata-hint" }, "A JSON object, for example {\"project\": \"apollo\", \"pages\": 12}."),
      metadata,
      formError,
    ),
    h("div", { class: "actions" }, saveButton, saved),
  );
  editForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveDetails(item, { description, metadata, formError, saved, saveButton });
  });
  const clearError = () => {
    formError.hidden = true;
    metadata.removeAttribute("aria-invalid");
    saved.textContent = "";
  };
  metadata.addEventListener("input", clearError);
  description.addEventListener("input", clearError);

  // Copy to folder ---------------------------------------------------------------------
  const copyFolder = h("input", { id: "copy-folder", type: "text", list: "folder-options", autocomplete: "off", spellcheck: "false", value: item.folder || "", "aria-describedby": "copy-hint copy-error" });
  const copyError = h("p", { class: "field-error", id: "copy-error", hidden: true });
  const copyButton = h("button", { type: "submit", class: "btn" }, icon(ICONS.copy), h("span", {}, "Copy"));
  const copyForm = h(
    "form",
    { class: "stack", id: "copy-form", hidden: true, novalidate: true },
    h("div", { class: "field" },
      h("label", { for: "copy-folder" }, "Copy to folder"),
      h("p", { class: "muted small", id: "copy-hint" }, "A new file with the same content and metadata. Leave empty for the top level."),
      h("div", { class: "inline-field" }, copyFolder, copyButton),
      copyError,
    ),
  );
  const copyToggle = h("button", { type: "button", class: "btn", "aria-expanded": "false", "aria-controls": "copy-form", id: "copy-toggle" }, icon(ICONS.copy), h("span", {}, "Copy to folder…"));
  copyToggle.addEventListener("click", () => {
    const open = copyForm.hidden;
    copyForm.hidden = !open;
    copyToggle.setAttribute("aria-expanded", String(open));
    if (open) {
      copyFolder.focus();
      copyFolder.select();
    }
  });
  copyFolder.addEventListener("input", () => {
    copyError.hidden = true;
  });
  copyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    copyTo(item, copyFolder.value.trim(), { copyButton, copyError });
  });

  // Trash --------------------------------------------------------------------------------
  const trashButton = h("button", { type: "button", class: "btn btn-danger-quiet", id: "move-to-trash" }, icon(ICONS.trash), h("span", {}, "Move to trash"));
  trashButton.addEventListener("click", () => moveToTrash(item, trashButton));
  const more = h("section", { class: "detail-section", "aria-labelledby": "more-heading" },
    h("h3", { id: "more-heading" }, "More"),
    h("div", { class: "actions" }, copyToggle, trashButton),
    copyForm,
  );
  return [share, visibility, editForm, more];
}

function trashDetails(item) {
  const restoreButton = h("button", { type: "button", class: "btn btn-primary", id: "restore" }, icon(ICONS.restore), h("span", {}, "Restore"));
  restoreButton.addEventListener("click", () => restore(item, restoreButton));
  const deleteButton = h("button", { type: "button", class: "btn btn-danger", id: "delete-for-good" }, icon(ICONS.trash), h("span", {}, "Delete for good"));
  deleteButton.addEventListener("click", () => deleteForGood(item, deleteButton));
  return [
    h("section", { class: "detail-section", "aria-labelledby": "trash-heading" },
      h("h3", { id: "trash-heading" }, "In the trash"),
      h("p", { class: "muted small" }, "Restore the file to use it again. Deleting it for good removes its content from storage; that cannot be undone."),
      h("div", { class: "actions" }, restoreButton, deleteButton),
    ),
  ];
}

function publicLinkBox(item) {
  const box = h("div", { class: "link-box", id: "public-link-box" });
  fillPublicLink(box, item);
  return box;
}

function fillPublicLink(box, item) {
  box.hidden = !item.is_public;
  if (!item.is_public) {
    box.replaceChildren();
    return;
  }
  const url = new URL(`${API}/files/${item.id}/download`).href;
  box.replaceChildren(...linkField("public-link", "Permanent public link", url));
}

function linkField(id, label, url, note = "") {
  const input = h("input", { id, type: "text", readOnly: true, value: url, class: "mono", spellcheck: "false" });
  input.addEventListener("focus", () => input.select());
  const copy = h("button", { type: "button", class: "btn btn-small" }, "Copy");
  copy.setAttribute("aria-label", `Copy ${label.toLowerCase()}`);
  copy.addEventListener("click", async () => {
    if (await writeClipboard(url)) notify("Link copied to the clipboard");
    else {
      input.focus();
      notify("Select the link and copy it (Ctrl+C)");
    }
  });
  return [
    h("label", { for: id, class: "small" }, label, note ? h("span", { class: "muted" }, ` · ${note}`) : null),
    h("div", { class: "inline-field" }, input, copy),
  ];
}

async function writeClipboard(text) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Actions on a file

async function download(item, button) {
  const done = busy(button, "Preparing…");
  try {
    // A presigned URL with Content-Disposition: attachment; on the local-disk store the
    // service signs its own /store URL. The bytes never pass through this page.
    const { url } = await api("GET", `/files/${item.id}/presigned-url`, { query: { force_download: "true" } });
    const link = h("a", { href: url, download: item.original_filename, rel: "noopener", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    notify(`Downloading ${quoted(item.original_filename)}`);
  } catch (error) {
    notifyError(error, "Download failed");
  } finally {
    done();
  }
}

async function copyLink(item, button, box) {
  const done = busy(button, "Creating link…");
  try {
    const link = await api("GET", `/files/${item.id}/presigned-url`, { query: { expiry: SHARE_LINK_SECONDS } });
    const until = timeFormat.format(new Date(link.expires_at));
    const minutes = Math.round(link.expires_in / 60);
    const lifetime = minutes >= 60 ? `${Math.round(minutes / 60)} h` : `${minutes} min`;
    box.replaceChildren(...linkField("share-link", "Temporary link", link.url, `works until ${until} (${lifetime})`));
    box.hidden = false;
    if (await writeClipboard(link.url)) notify(`Link copied — it works until ${until}`);
    else {
      $("share-link").focus();
      notify("Copy the link shown below (Ctrl+C)");
    }
  } catch (error) {
    notifyError(error, "Could not create a link");
  } finally {
    done();
  }
}

async function setPublic(item, toggle, box) {
  const wanted = toggle.checked;
  toggle.disabled = true;
  try {
    const record = await api("PATCH", `/files/${item.id}`, { body: { is_public: wanted } });
    Object.assign(item, record);
    replaceItem(record);
    fillPublicLink(box, record);
    const visibility = [...$("details-body").querySelectorAll(".fact")].find((node) => node.firstChild.textContent === "Visibility");
    if (visibility) visibility.lastChild.textContent = record.is_public ? "Public" : "Private";
    notify(record.is_public ? `${quoted(record.original_filename)} is public` : `${quoted(record.original_filename)} is private`);
  } catch (error) {
    toggle.checked = !wanted;
    notifyError(error, "Could not change the visibility");
  } finally {
    toggle.disabled = false;
  }
}

async function saveDetails(item, { description, metadata, formError, saved, saveButton }) {
  const showError = (text) => {
    formError.textContent = text;
    formError.hidden = false;
    metadata.setAttribute("aria-invalid", "true");
    metadata.focus();
  };
  let parsed;
  const text = metadata.value.trim();
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch (error) {
    showError(`Metadata is not valid JSON: ${error.message.replace(/^JSON\.parse: /, "")}`);
    return;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    showError("Metadata must be a JSON object, in braces: {\"key\": \"value\"}");
    return;
  }
  const done = busy(saveButton, "Saving…");
  saved.textContent = "";
  try {
    const record = await api("PATCH", `/files/${item.id}`, {
      body: { description: description.value.trim() || null, metadata: parsed },
    });
    Object.assign(item, record);
    replaceItem(record);
    metadata.value = Object.keys(record.metadata || {}).length ? JSON.stringify(record.metadata, null, 2) : "{}";
    saved.textContent = "Saved";
    notify("Description and metadata saved");
  } catch (error) {
    if (error.status === 401) return;
    const { message, detail } = describeError(error);
    formError.textContent = detail ? `${message}: ${detail}` : message;
    formError.hidden = false;
    metadata.setAttribute("aria-invalid", "true");
  } finally {
    done();
  }
}

async function copyTo(item, folder, { copyButton, copyError }) {
  const done = busy(copyButton, "Copying…");
  copyError.hidden = true;
  try {
    const record = await api("POST", `/files/${item.id}/copy`, { body: { new_folder: folder } });
    addItem(record);
    notify(`Copied ${quoted(record.original_filename)} to ${folderLabel(record.folder)}`, {
      action: matchesView(record) ? { label: "Show", run: () => openDetails(record.id) } : null,
    });
  } catch (error) {
    if (error.status === 401) return;
    copyError.textContent = errorText(error);
    copyError.hidden = false;
  } finally {
    done();
  }
}

async function moveToTrash(item, button) {
  const done = busy(button, "Moving…");
  try {
    await api("DELETE", `/files/${item.id}`);
    closeDetails(false);
    removeItem(item.id);
    $("search").focus();
    notify(`Moved ${quoted(item.original_filename)} to the trash`, {
      action: { label: "Undo", run: () => restore(item, null, { undo: true }) },
    });
  } catch (error) {
    done();
    notifyError(error, "Could not move the file to the trash");
  }
}

async function restore(item, button, { undo = false } = {}) {
  const done = button ? busy(button, "Restoring…") : () => {};
  try {
    const record = await api("POST", `/files/${item.id}/restore`);
    if (state.trash) {
      closeDetails(false);
      removeItem(item.id);
      $("trash-toggle").focus();
    } else {
      addItem(record);
    }
    notify(undo ? `${quoted(record.original_filename)} is back` : `Restored ${quoted(record.original_filename)} to ${folderLabel(record.folder)}`);
  } catch (error) {
    done();
    notifyError(error, "Could not restore the file");
  }
}

async function deleteForGood(item, button) {
  const confirmed = await confirmAction({
    title: "Delete for good?",
    text: `${quoted(item.original_filename)} and its content will be removed from storage. This cannot be undone.`,
    confirm: "Delete for good",
  });
  if (!confirmed) {
    button.focus();
    return;
  }
  const done = busy(button, "Deleting…");
  try {
    await api("DELETE", `/files/${item.id}`, { query: { hard_delete: "true" } });
    closeDetails(false);
    removeItem(item.id);
    $("trash-toggle").focus();
    notify(`Deleted ${quoted(item.original_filename)} for good`);
  } catch (error) {
    done();
    notifyError(error, "Could not delete the file");
  }
}

function confirmAction({ title, text, confirm }) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = confirm;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

// ---------------------------------------------------------------------------------------
// Uploads

/** Remembers the size limit of the last upload form, to name it if the store refuses. */
class PageUploader extends Uploader {
  async call(method, path, body) {
    const data = await super.call(method, path, body);
    if (method === "POST" && path === "/uploads" && data?.max_file_size) this.formLimit = data.max_file_size;
    return data;
  }
}

function enqueue(fileList) {
  const files = [...fileList];
  if (!files.length || !state.token) return;
  if (state.trash) {
    state.trash = false;
    renderView();
    loadFiles();
  }
  for (const file of files) {
    const upload = {
      file,
      folder: state.folder,
      sent: 0,
      status: "queued",
      controller: new AbortController(),
    };
    upload.element = uploadRow(upload);
    state.uploads.push(upload);
    $("upload-list").append(upload.element.row);
    if (file.size === 0) finishUpload(upload, "error", describeError({ code: "empty_file" }).message);
  }
  $("uploads").hidden = false;
  renderUploadSummary();
  $("live-status").textContent = `${files.length} ${files.length === 1 ? "file" : "files"} added to the uploads`;
  pumpUploads();
}

function uploadRow(upload) {
  const progress = h("progress", { max: String(Math.max(upload.file.size, 1)), value: "0", "aria-label": `Upload of ${upload.file.name}` });
  const status = h("span", { class: "upload-status" }, "Waiting…");
  const cancel = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Cancel");
  cancel.setAttribute("aria-label", `Cancel the upload of ${upload.file.name}`);
  cancel.addEventListener("click", () => {
    upload.controller.abort();
    if (upload.status === "queued") finishUpload(upload, "cancelled", "Cancelled");
  });
  const row = h(
    "li",
    { class: "upload", "data-state": "queued" },
    h("div", { class: "upload-head" },
      h("span", { class: "upload-name" }, upload.file.name),
      h("span", { class: "upload-size muted" }, formatBytes(upload.file.size)),
    ),
    progress,
    h("div", { class: "upload-foot" }, status, cancel),
  );
  return { row, progress, status, cancel };
}

function pumpUploads() {
  const running = state.uploads.filter((upload) => upload.status === "uploading").length;
  const waiting = state.uploads.filter((upload) => upload.status === "queued");
  for (const upload of waiting.slice(0, Math.max(0, PARALLEL_FILES - running))) runUpload(upload);
}

async function runUpload(upload) {
  upload.status = "uploading";
  const { row, progress, status } = upload.element;
  row.dataset.state = "uploading";
  status.textContent = "Starting…";
  const uploader = new PageUploader({ api: API, token: state.token, ...(PART_THRESHOLD ? { partThreshold: PART_THRESHOLD } : {}) });
  try {
    const record = await uploader.upload(upload.file, {
      folder: upload.folder || undefined,
      signal: upload.controller.signal,
      onProgress: (sent, total) => {
        upload.sent = sent;
        progress.value = sent;
        const percent = total ? Math.floor((sent / total) * 100) : 100;
        status.textContent = sent >= total ? "Checking…" : `Uploading… ${percent}% · ${formatBytes(sent)} of ${formatBytes(total)}`;
        renderUploadSummary();
      },
    });
    upload.sent = upload.file.size;
    upload.record = record;
    finishUpload(upload, "done", "Uploaded");
    addItem(record);
    const show = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Show");
    show.setAttribute("aria-label", `Show ${record.original_filename}`);
    show.addEventListener("click", () => openDetails(record.id));
    upload.element.cancel.replaceWith(show);
    if (!matchesView(record)) show.hidden = true;
  } catch (error) {
    if (error.status === 401) {
      signOut("Your key is no longer accepted — sign in again.");
      return;
    }
    // The uploader reads S3's XML error codes; the local store's /store-upload answers JSON,
    // which reaches here as a bare status.
    if (error.code === "store_error" && error.status === 413) error.code = "file_too_large";
    if (error.code === "store_error" && error.status === 403) error.code = "expired_signature";
    if ((error.code === "EntityTooLarge" || error.code === "file_too_large") && uploader.formLimit && !limitFrom(error)) {
      error.limit = uploader.formLimit;
    }
    const { message, detail } = describeError(error);
    finishUpload(upload, error.code === "aborted" ? "cancelled" : "error", message, detail);
  } finally {
    pumpUploads();
  }
}

function finishUpload(upload, outcome, message, detail = "") {
  upload.status = outcome;
  const { row, progress, status, cancel } = upload.element;
  row.dataset.state = outcome;
  status.replaceChildren(h("strong", {}, message), detail ? h("span", { class: "upload-detail" }, ` — ${detail}`) : "");
  if (outcome === "done") progress.value = progress.max;
  cancel.hidden = outcome !== "queued" && outcome !== "uploading";
  renderUploadSummary();
  const name = quoted(upload.file.name);
  if (outcome === "done") $("live-status").textContent = `Uploaded ${name}`;
  else if (outcome === "error") {
    // The reason is shown in the upload's row; the toast only points there.
    notify(`${name} was not uploaded — ${message.charAt(0).toLowerCase()}${message.slice(1)}`, {
      kind: "error",
      sticky: false,
      announce: `${name} was not uploaded: ${detail ? `${message}: ${detail}` : message}`,
    });
  }
}

function renderUploadSummary() {
  const uploads = state.uploads;
  const total = uploads.reduce((sum, upload) => sum + upload.file.size, 0);
  const sent = uploads.reduce((sum, upload) => sum + (upload.status === "error" || upload.status === "cancelled" ? upload.file.size : upload.sent), 0);
  const overall = $("uploads-overall");
  overall.max = Math.max(total, 1);
  overall.value = Math.min(sent, total);
  const done = uploads.filter((upload) => upload.status === "done").length;
  const failed = uploads.filter((upload) => upload.status === "error").length;
  const active = uploads.filter((upload) => upload.status === "uploading" || upload.status === "queued").length;
  const parts = [];
  if (active) parts.push(`${active} in progress · ${formatBytes(Math.min(sent, total))} of ${formatBytes(total)}`);
  if (done) parts.push(`${done} uploaded`);
  if (failed) parts.push(`${failed} failed`);
  $("uploads-summary").textContent = parts.join(" · ");
  $("uploads").dataset.active = String(active > 0);
  $("uploads-clear").hidden = active === uploads.length;
}

function clearFinishedUploads() {
  state.uploads = state.uploads.filter((upload) => {
    const keep = upload.status === "uploading" || upload.status === "queued";
    if (!keep) upload.element.row.remove();
    return keep;
  });
  $("uploads").hidden = state.uploads.length === 0;
  renderUploadSummary();
  $("dropzone").focus();
}

function setUpDropping() {
  const zone = $("dropzone");
  let depth = 0;
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event) || !state.token || state.trash) return;
    depth += 1;
    zone.classList.add("is-dragging");
  });
  document.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove("is-dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault(); // files dropped anywhere are uploaded, not opened by the browser
    event.dataTransfer.dropEffect = state.token && !state.trash ? "copy" : "none";
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    zone.classList.remove("is-dragging");
    if (state.token && !state.trash) enqueue(event.dataTransfer.files);
  });
}

// ---------------------------------------------------------------------------------------
// Wiring

function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("api-key").addEventListener("input", () => {
    $("sign-in-error").hidden = true;
    $("api-key").setAttribute("aria-invalid", "false");
  });
  $("sign-out").addEventListener("click", () => signOut());

  $("filters").addEventListener("submit", (event) => event.preventDefault());
  const applySearch = debounce(() => {
    const value = $("search").value.trim();
    if (value === state.search) return;
    state.search = value;
    loadFiles();
  }, 250);
  $("search").addEventListener("input", applySearch);
  const applyFolder = debounce(() => {
    const value = $("folder").value.trim().replace(/^\/+|\/+$/g, "");
    if (value === state.folder) return;
    state.folder = value;
    renderView();
    loadFiles();
  }, 350);
  $("folder").addEventListener("input", applyFolder);
  $("folder").addEventListener("change", applyFolder);
  $("trash-toggle").addEventListener("click", () => {
    state.trash = !state.trash;
    state.items = [];
    state.cursor = null;
    closeDetails(false);
    renderView();
    renderRows();
    loadFiles();
  });
  $("refresh").addEventListener("click", () => loadFiles());
  $("load-more").addEventListener("click", () => loadFiles({ append: true }));

  const input = $("file-input");
  const pick = () => input.click();
  $("upload-button").addEventListener("click", pick);
  $("dropzone").addEventListener("click", pick);
  input.addEventListener("change", () => {
    enqueue(input.files);
    input.value = "";
  });
  $("uploads-clear").addEventListener("click", clearFinishedUploads);
  setUpDropping();

  $("details-close").addEventListener("click", () => closeDetails());
  PHONE.addEventListener("change", updateInert);
  $("toast-close").addEventListener("click", hideToast);
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || $("confirm").open) return;
    const typing = event.target instanceof HTMLElement && event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape" && state.selectedId && !$("details").hidden && !event.target.closest?.("textarea")) {
      event.preventDefault();
      closeDetails();
    } else if (event.key === "/" && !typing && !$("app-view").hidden) {
      event.preventDefault();
      $("search").focus();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (state.uploads.some((upload) => upload.status === "uploading" || upload.status === "queued")) event.preventDefault();
  });

  state.token = sessionStorage.getItem(TOKEN_KEY);
  if (state.token) {
    showApp();
    loadFiles();
  } else {
    showSignIn();
  }
  document.documentElement.dataset.ready = "true";
}

start();
