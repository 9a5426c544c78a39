// What the page tells the user: the API's stable error codes become sentences (nothing raw
// reaches the page), one visible toast, live regions for screen readers, and a confirm dialog.

import { $, formatBytes } from "./dom.js";

export function limitFrom(error) {
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
export function describeError(error) {
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
    case "folder_exists":
      return { message: "A folder of that name is already there", detail };
    case "folder_inside_itself":
      return { message: "A folder cannot go inside itself" };
    case "same_folder":
      return { message: "It is already in that folder" };
    case "quota_exceeded":
      return { message: "Your storage quota is full", detail };
    case "no_preview":
      return { message: "No preview for this type of file" };
    case "image_too_large":
      return { message: "This image is too large to preview", detail };
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

export function errorText(error) {
  const { message, detail } = describeError(error);
  return detail ? `${message}: ${detail}` : message;
}

let toastTimer;

export function notify(text, { kind = "info", action = null, sticky = kind === "error", announce = text } = {}) {
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

export function notifyError(error, prefix = "") {
  if (error?.status === 401) return; // handled: back to sign-in
  notify(prefix ? `${prefix}: ${errorText(error)}` : errorText(error), { kind: "error" });
}

export function hideToast() {
  clearTimeout(toastTimer);
  $("toast").hidden = true;
}

export function confirmAction({ title, text, confirm }) {
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
