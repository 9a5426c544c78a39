// Signing in with an API key (checked against the service, kept in this tab's session
// storage) and signing out (uploads cancelled, the page emptied).

import { $, formatBytes } from "./dom.js";
import { errorText, hideToast, notify } from "./messages.js";
import { renderView } from "./list.js";
import { closeDetails } from "./panel.js";
import { api, hooks, state, TOKEN_KEY } from "./state.js";

export function showSignIn(message = "") {
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

export function showApp() {
  $("sign-in-view").hidden = true;
  $("app-view").hidden = false;
  $("session").hidden = false;
  $("session-label").textContent = state.me ? state.me.owner : "";
  renderView();
  loadSession();
}

/** Who is signed in and the upload limits (/config), then the usage against the quota. */
export async function loadSession() {
  try {
    state.me = await api("GET", "/config");
    const label = $("session-label");
    label.textContent = state.me.owner;
    label.title = state.me.admin ? `Signed in as ${state.me.owner} (administrator)` : `Signed in as ${state.me.owner}`;
    label.classList.toggle("is-admin", Boolean(state.me.admin));
    renderView(); // an admin's list has an owner column
    await refreshUsage();
  } catch {
    // the list shows the error, if there is one
  }
}

export async function refreshUsage() {
  if (!state.token) return;
  try {
    const usage = await api("GET", "/usage");
    const quota = usage.quota || {};
    const text = quota.max_bytes
      ? `${formatBytes(usage.bytes)} of ${formatBytes(quota.max_bytes)} used`
      : `${formatBytes(usage.bytes)} used · ${usage.files} ${usage.files === 1 ? "file" : "files"}`;
    // an admin's list shows everyone's files; the usage is the admin's own
    $("usage-text").textContent = state.me?.admin ? `Your own files: ${text}` : text;
    $("usage").title = state.me?.admin ? "What your own files use (the list shows every owner's files)" : "";
    const meter = $("usage-meter");
    meter.hidden = !quota.max_bytes;
    if (quota.max_bytes) {
      meter.max = quota.max_bytes;
      meter.value = Math.min(usage.bytes, quota.max_bytes);
      meter.high = quota.max_bytes * 0.9;
      meter.optimum = 0;
    }
    $("usage").hidden = false;
  } catch {
    $("usage").hidden = true;
  }
}

export async function signIn(event) {
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
    state.me = await api("GET", "/config", { token });
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
  await hooks.showAddress(); // the folder a link or a reload named, else the top level
}

export function signOut(message = "") {
  for (const upload of state.uploads) upload.controller?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, me: null, items: [], subfolders: [], cursor: null, selectedId: null, uploads: [], trash: false, search: "", folder: "" });
  state.selection.clear();
  $("usage").hidden = true;
  state.listSeq += 1;
  $("search").value = "";
  $("upload-list").replaceChildren();
  $("uploads").hidden = true;
  $("file-rows").replaceChildren();
  closeDetails(false);
  hideToast();
  showSignIn(message);
}
