// Thumbnails in the list (made by the service: GET /files/{id}/thumbnail, fetched with the
// key and shown from blob: URLs, a few at a time, only for rows in view) and the preview
// pane of the details: images and PDFs through their thumbnail, the start of text files as
// text (never as HTML), audio and video in the browser's own player.

import { $, h, icon, typeIcon } from "./dom.js";
import { api, apiRaw } from "./state.js";

const THUMB_TYPES = /^(image\/(jpeg|png|gif|webp|bmp|tiff|avif|heic|heif)|application\/pdf)$/;
const TEXT_TYPES = /^(text\/(plain|csv|markdown|x-markdown|tab-separated-values)|application\/(json|x-ndjson))$/;
const TEXT_BYTES = 4096;
const PARALLEL = 4;
const urls = new Map(); // "<id>:<size>" -> blob: URL (or null: no preview)
const waiting = [];
let running = 0;

export const canThumb = (type) => THUMB_TYPES.test((type || "").split(";")[0].trim());

function thumbnailUrl(id, size) {
  const key = `${id}:${size}`;
  if (urls.has(key)) return Promise.resolve(urls.get(key));
  return new Promise((resolve) => {
    waiting.push({ id, size, key, resolve });
    pump();
  });
}

function pump() {
  while (running < PARALLEL && waiting.length) {
    const job = waiting.shift();
    if (urls.has(job.key)) {
      job.resolve(urls.get(job.key));
      continue;
    }
    running += 1;
    apiRaw("GET", `/files/${job.id}/thumbnail`, { query: { size: job.size } })
      .then((response) => response.blob())
      .then((blob) => URL.createObjectURL(blob))
      .catch(() => null)
      .then((url) => {
        urls.set(job.key, url);
        job.resolve(url);
      })
      .finally(() => {
        running -= 1;
        pump();
      });
  }
}

const observer = new IntersectionObserver((seen) => {
  for (const entry of seen) {
    if (!entry.isIntersecting) continue;
    observer.unobserve(entry.target);
    const slot = entry.target;
    thumbnailUrl(slot.dataset.thumb, 128).then((url) => {
      if (!url || !slot.isConnected) return;
      slot.replaceChildren(h("img", { src: url, alt: "", width: "28", height: "28", decoding: "async" }));
      slot.classList.add("has-image");
    });
  }
}, { rootMargin: "200px" });

/** Called after the rows are rebuilt: thumbnails for the rows that show one. */
export function watchThumbnails() {
  for (const slot of document.querySelectorAll("#file-rows .thumb[data-thumb]")) {
    if (canThumb(slot.dataset.type)) observer.observe(slot);
  }
}

/** The preview pane for one file (filled in as its content arrives). */
export function previewPane(item) {
  const type = (item.content_type || "").split(";")[0].trim().toLowerCase();
  const pane = h("figure", { class: "preview", "aria-label": "Preview" });
  const placeholder = () => pane.replaceChildren(h("div", { class: "preview-icon" }, icon(typeIcon(type)), h("span", { class: "muted small" }, "No preview for this type")));
  if (canThumb(type)) {
    pane.replaceChildren(h("div", { class: "preview-loading muted small" }, "Loading preview…"));
    thumbnailUrl(item.id, 512).then((url) => {
      if (!url) return placeholder();
      const what = type === "application/pdf" ? "First page of" : "Preview of";
      pane.replaceChildren(h("img", { src: url, alt: `${what} ${item.original_filename}`, class: "preview-image" }));
    });
  } else if (TEXT_TYPES.test(type) || type.startsWith("text/")) {
    pane.replaceChildren(h("div", { class: "preview-loading muted small" }, "Loading…"));
    apiRaw("GET", `/files/${item.id}/download`, { headers: { Range: `bytes=0-${TEXT_BYTES - 1}` } })
      .then((response) => response.arrayBuffer())
      .then((buffer) => {
        const text = new TextDecoder("utf-8", { fatal: false }).decode(buffer);
        const more = item.file_size > TEXT_BYTES;
        pane.replaceChildren(h("pre", { class: "preview-text", tabindex: "0", "aria-label": `Start of ${item.original_filename}` }, more ? `${text}…` : text));
      })
      .catch(placeholder);
  } else if (type.startsWith("audio/") || type.startsWith("video/")) {
    pane.replaceChildren(h("div", { class: "preview-loading muted small" }, "Loading player…"));
    api("GET", `/files/${item.id}/presigned-url`)
      .then(({ url }) => {
        const player = h(type.startsWith("audio/") ? "audio" : "video", { controls: true, preload: "metadata", src: url, class: "preview-media" });
        player.setAttribute("aria-label", `Play ${item.original_filename}`);
        pane.replaceChildren(player);
      })
      .catch(placeholder);
  } else {
    placeholder();
  }
  return pane;
}

export function forgetThumbnails() {
  for (const url of urls.values()) if (url) URL.revokeObjectURL(url);
  urls.clear();
}

