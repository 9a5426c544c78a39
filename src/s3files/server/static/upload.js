// The uploads panel: files picked or dropped are queued, sent (a few at a time) by the same
// Uploader that third-party pages use, with progress, cancel and the reason for a refusal.

import { $, formatBytes, h, quoted } from "./dom.js";
import { Uploader } from "./uploader.js";
import { describeError, limitFrom, notify } from "./messages.js";
import { addItem, loadFiles, matchesView, renderView } from "./list.js";
import { signOut } from "./auth.js";
import { openDetails } from "./details.js";
import { API, hooks, PARALLEL_FILES, PART_THRESHOLD, state } from "./state.js";

/** Remembers the size limit of the last upload form, to name it if the store refuses. */
class PageUploader extends Uploader {
  async call(method, path, body) {
    const data = await super.call(method, path, body);
    if (method === "POST" && path === "/uploads" && data?.max_file_size) this.formLimit = data.max_file_size;
    return data;
  }
}

/** Why the service would refuse this file, from /api/v1/config's limits; null if it may go. */
function refusalOf(file) {
  const me = state.me;
  if (file.size === 0) return describeError({ code: "empty_file" }).message;
  if (!me) return null;
  if (me.max_file_size && file.size > me.max_file_size) return describeError({ code: "file_too_large", limit: me.max_file_size }).message;
  const dot = file.name.lastIndexOf(".");
  const extension = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : "";
  if (me.allowed_extensions && !me.allowed_extensions.includes(extension)) {
    return extension ? `Files of type .${extension} are not allowed` : "Files without an extension are not allowed";
  }
  return null;
}

let enqueuing = false;
let refusedRound = []; // {name, message}: told in one message when the round is over

export function enqueue(fileList) {
  const files = [...fileList];
  if (!files.length || !state.token) return;
  if (state.trash) {
    state.trash = false;
    renderView();
    loadFiles();
  }
  enqueuing = true;
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
    const refusal = refusalOf(file);
    if (refusal) finishUpload(upload, "error", refusal); // not a byte sent
  }
  enqueuing = false;
  $("uploads").hidden = false;
  expandUploads(true);
  renderUploadSummary();
  $("live-status").textContent = `${files.length} ${files.length === 1 ? "file" : "files"} added to the uploads`;
  pumpUploads();
  reportRound();
}

function expandUploads(open) {
  $("uploads-toggle").setAttribute("aria-expanded", String(open));
  $("uploads-body").hidden = !open;
}

export function toggleUploads() {
  expandUploads($("uploads-body").hidden);
}

/** Once nothing is in flight: one message for every refusal of the round; a round with no
 * refusal folds the panel to its summary line. */
function reportRound() {
  if (enqueuing) return;
  if (state.uploads.some((upload) => upload.status === "uploading" || upload.status === "queued")) return;
  const refused = refusedRound;
  refusedRound = [];
  hooks.usageChanged?.();
  if (!refused.length) {
    if (state.uploads.length) expandUploads(false);
    return;
  }
  const lower = (text) => text.charAt(0).toLowerCase() + text.slice(1);
  const text = refused.length === 1
    ? `${quoted(refused[0].name)} was not uploaded — ${lower(refused[0].message)}`
    : `${refused.length} files were not uploaded: ${refused.map((one) => `${quoted(one.name)} (${lower(one.message)})`).join(", ")}`;
  notify(text, { kind: "error", sticky: false, announce: text });
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
  else if (outcome === "error") refusedRound.push({ name: upload.file.name, message: detail ? `${message}: ${detail}` : message });
  reportRound();
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

export function clearFinishedUploads() {
  state.uploads = state.uploads.filter((upload) => {
    const keep = upload.status === "uploading" || upload.status === "queued";
    if (!keep) upload.element.row.remove();
    return keep;
  });
  $("uploads").hidden = state.uploads.length === 0;
  renderUploadSummary();
  $("dropzone").focus();
}

export function setUpDropping() {
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
