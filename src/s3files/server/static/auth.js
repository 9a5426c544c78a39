// Signing in with an API key (checked against the service, kept in this tab's session
// storage) and signing out (uploads cancelled, the page emptied).

import { $ } from "./dom.js";
import { errorText, hideToast, notify } from "./messages.js";
import { loadFiles, renderView } from "./list.js";
import { closeDetails } from "./panel.js";
import { api, state, TOKEN_KEY } from "./state.js";

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
  $("session-label").textContent = `Key ${state.token.slice(0, 12)}…`;
  $("session-label").title = "The API key this tab is signed in with";
  renderView();
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

export function signOut(message = "") {
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
