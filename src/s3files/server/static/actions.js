// What can be done to one file from the details panel: download, temporary link, public or
// private, description and metadata, copy, trash, restore, delete for good.

import { $, busy, folderLabel, h, quoted, timeFormat, writeClipboard } from "./dom.js";
import { confirmAction, describeError, errorText, notify, notifyError } from "./messages.js";
import { closeDetails } from "./panel.js";
import { linkField, fillPublicLink } from "./links.js";
import { addItem, matchesView, removeItem, replaceItem } from "./list.js";
import { api, hooks, SHARE_LINK_SECONDS, state } from "./state.js";

export async function download(item, button) {
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

export async function copyLink(item, button, box) {
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

export async function setPublic(item, toggle, box) {
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

export async function saveDetails(item, { description, metadata, formError, saved, saveButton }) {
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

export async function copyTo(item, folder, { copyButton, copyError }) {
  const done = busy(copyButton, "Copying…");
  copyError.hidden = true;
  try {
    const record = await api("POST", `/files/${item.id}/copy`, { body: { new_folder: folder } });
    addItem(record);
    if (record.folder !== state.folder) hooks.refresh(); // a subfolder's counts changed
    hooks.usageChanged?.();
    notify(`Copied ${quoted(record.original_filename)} to ${folderLabel(record.folder)}`, {
      action: matchesView(record) ? { label: "Show", run: () => hooks.openDetails(record.id) } : null,
    });
  } catch (error) {
    if (error.status === 401) return;
    copyError.textContent = errorText(error);
    copyError.hidden = false;
  } finally {
    done();
  }
}

export async function moveToTrash(item, button) {
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

export async function restore(item, button, { undo = false } = {}) {
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

export async function deleteForGood(item, button) {
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
