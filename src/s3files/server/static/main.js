// s3files web file manager: plain DOM, no framework, no build step; ES modules served as they
// are from /static (index.html loads this one).
//
// Talks to the service's /api/v1 with the API key the user pasted (kept in sessionStorage);
// the bytes of uploads and downloads go straight to the store through URLs the service signs
// (presigned POST / multipart parts / presigned GET, or the service's own /store URLs on the
// local-disk store). Everything user-supplied is put in the page with textContent, never as HTML.
//
// The modules, each importing only ones above it in this list: api.js (the request helper,
// shared with uploader.js), dom.js, messages.js, state.js, panel.js, list.js, links.js,
// actions.js, details.js, auth.js, uploader.js, upload.js, and this one, which wires events.

import { $, debounce } from "./dom.js";
import { hideToast } from "./messages.js";
import { hooks, state, TOKEN_KEY } from "./state.js";
import { closeDetails, PHONE, updateInert } from "./panel.js";
import { loadFiles, renderRows, renderView } from "./list.js";
import { openDetails } from "./details.js";
import { showApp, showSignIn, signIn, signOut } from "./auth.js";
import { clearFinishedUploads, enqueue, setUpDropping } from "./upload.js";

hooks.openDetails = openDetails;
hooks.signOut = signOut;

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
