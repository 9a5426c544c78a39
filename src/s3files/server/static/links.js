// Link fields: a read-only URL with a copy button, and the permanent link of a public file.

import { h, writeClipboard } from "./dom.js";
import { notify } from "./messages.js";
import { API } from "./state.js";

export function publicLinkBox(item) {
  const box = h("div", { class: "link-box", id: "public-link-box" });
  fillPublicLink(box, item);
  return box;
}

export function fillPublicLink(box, item) {
  box.hidden = !item.is_public;
  if (!item.is_public) {
    box.replaceChildren();
    return;
  }
  const url = new URL(`${API}/files/${item.id}/download`).href;
  box.replaceChildren(...linkField("public-link", "Permanent public link", url));
}

export function linkField(id, label, url, note = "") {
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
