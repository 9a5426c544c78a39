// The details panel of one file: its facts, and the controls for what can be done to it
// (the actions themselves are in actions.js).

import { $, formatBytes, h, icon, ICONS, timeElement } from "./dom.js";
import { copyLink, copyTo, deleteForGood, download, moveToTrash, restore, saveDetails, setPublic } from "./actions.js";
import { publicLinkBox } from "./links.js";
import { updateInert } from "./panel.js";
import { previewPane } from "./preview.js";
import { askName } from "./dialogs.js";
import { moveWithPicker } from "./folders.js";
import { renameEntry } from "./bulk.js";
import { fileKey, state } from "./state.js";

export function openDetails(id, { focus = true } = {}) {
  const item = state.items.find((candidate) => candidate.id === id);
  if (!item) return;
  state.selectedId = id;
  for (const row of $("file-rows").rows) {
    const on = row.dataset.id === id;
    row.classList.toggle("is-open", on);
    row.querySelector(".file-name")?.setAttribute("aria-expanded", String(on));
  }
  renderDetails(item);
  $("details").hidden = false;
  $("workspace").classList.add("has-details");
  document.body.classList.add("details-open");
  updateInert();
  if (focus) $("details-heading").focus();
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
  $("details-body").replaceChildren(previewPane(item), facts, ...body);
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
  const entry = { kind: "file", key: fileKey(item.id), item };
  const renameButton = h("button", { type: "button", class: "btn", id: "rename" }, icon(ICONS.rename), h("span", {}, "Rename…"));
  renameButton.addEventListener("click", () =>
    askName({ title: "Rename file", label: "New name", value: item.original_filename, confirm: "Rename", submit: (name) => renameEntry(entry, name) }));
  const moveButton = h("button", { type: "button", class: "btn", id: "move" }, icon(ICONS.move), h("span", {}, "Move…"));
  moveButton.addEventListener("click", () => moveWithPicker([entry]));
  const more = h("section", { class: "detail-section", "aria-labelledby": "more-heading" },
    h("h3", { id: "more-heading" }, "More"),
    h("div", { class: "actions" }, renameButton, moveButton, copyToggle, trashButton),
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
