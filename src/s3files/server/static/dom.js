// Building the page: elements from plain data (user text only ever as textContent, never as
// HTML), icons, and the formatting of sizes, dates, types and names.

export const $ = (id) => document.getElementById(id);

export function h(tag, props = {}, ...children) {
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

export function icon(path) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

export const ICONS = {
  download: "M12 4v12m0 0-4.5-4.5M12 16l4.5-4.5M4 17v1.5A1.5 1.5 0 0 0 5.5 20h13a1.5 1.5 0 0 0 1.5-1.5V17",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  copy: "M8 8V5.5A1.5 1.5 0 0 1 9.5 4h9A1.5 1.5 0 0 1 20 5.5v9a1.5 1.5 0 0 1-1.5 1.5H16M5.5 8h9A1.5 1.5 0 0 1 16 9.5v9a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 4 18.5v-9A1.5 1.5 0 0 1 5.5 8z",
  trash: "M4 7h16M9 7V4.5h6V7m-8.5 0 1 12.5a1.5 1.5 0 0 0 1.5 1.4h6a1.5 1.5 0 0 0 1.5-1.4l1-12.5",
  restore: "M4 12a8 8 0 1 0 2.3-5.7M4 4v4.5h4.5",
  back: "M19 12H5m0 0 6-6m-6 6 6 6",
  file: "M7 3.5h6.5L18 8v11a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 6 19V5a1.5 1.5 0 0 1 1-1.5zM13 3.5V8h5",
  globe: "M12 20a8 8 0 1 0 0-16 8 8 0 0 0 0 16zm-8-8h16M12 4c2.2 2.2 3 5 3 8s-.8 5.8-3 8c-2.2-2.2-3-5-3-8s.8-5.8 3-8z",
  folder: "M3.5 7.5V18A1.5 1.5 0 0 0 5 19.5h14a1.5 1.5 0 0 0 1.5-1.5V9A1.5 1.5 0 0 0 19 7.5h-7L10 5H5A1.5 1.5 0 0 0 3.5 6.5z",
  image: "M5 4.5h14A1.5 1.5 0 0 1 20.5 6v12a1.5 1.5 0 0 1-1.5 1.5H5A1.5 1.5 0 0 1 3.5 18V6A1.5 1.5 0 0 1 5 4.5zm-1.5 12 5-5 4 4 2.5-2.5 5.5 5.5M15.5 9.5h.01",
  pdf: "M7 3.5h6.5L18 8v11a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 6 19V5a1.5 1.5 0 0 1 1-1.5zM13 3.5V8h5M9 13h6M9 16.5h4",
  text: "M7 3.5h6.5L18 8v11a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 6 19V5a1.5 1.5 0 0 1 1-1.5zM13 3.5V8h5M9 12h6M9 15h6M9 18h3",
  audio: "M9 18V6l10-2v12M9 18a2.5 2.5 0 1 1-5 0 2.5 2.5 0 0 1 5 0zm10-2a2.5 2.5 0 1 1-5 0 2.5 2.5 0 0 1 5 0z",
  video: "M4.5 6h11A1.5 1.5 0 0 1 17 7.5v9a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 3 16.5v-9A1.5 1.5 0 0 1 4.5 6zM17 10l4-2.5v9L17 14",
  archive: "M4 4.5h16v4H4zM5 8.5V19a1.5 1.5 0 0 0 1.5 1.5h11A1.5 1.5 0 0 0 19 19V8.5M10 12h4",
  sheet: "M5 4.5h14A1.5 1.5 0 0 1 20.5 6v12a1.5 1.5 0 0 1-1.5 1.5H5A1.5 1.5 0 0 1 3.5 18V6A1.5 1.5 0 0 1 5 4.5zM3.5 9.5h17M3.5 14.5h17M9.5 9.5v10",
  move: "M3.5 7.5V18A1.5 1.5 0 0 0 5 19.5h14a1.5 1.5 0 0 0 1.5-1.5V9A1.5 1.5 0 0 0 19 7.5h-7L10 5H5A1.5 1.5 0 0 0 3.5 6.5zM9 13.5h6m-2.5-2.5 2.5 2.5-2.5 2.5",
  rename: "M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4",
};

/** The icon of a content type: what kind of file this is, at a glance. */
export function typeIcon(contentType) {
  const type = (contentType || "").split(";")[0].trim().toLowerCase();
  const [major, minor = ""] = type.split("/");
  if (major === "image") return ICONS.image;
  if (major === "audio") return ICONS.audio;
  if (major === "video") return ICONS.video;
  if (type === "application/pdf") return ICONS.pdf;
  if (/zip|tar|gzip|compressed|7z|rar/.test(minor)) return ICONS.archive;
  if (/sheet|excel|csv/.test(minor)) return ICONS.sheet;
  if (major === "text" || /json|xml|markdown|word|document/.test(minor)) return ICONS.text;
  return ICONS.file;
}

export function formatBytes(bytes) {
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
export const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

function formatDate(text) {
  if (!text) return "—";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : dateFormat.format(date);
}

export function timeElement(text) {
  return h("time", { datetime: text || "" }, formatDate(text));
}

/** A date for a narrow line: the time if today, else the day (and the year if another). */
export function shortDate(text) {
  const date = new Date(text || "");
  if (Number.isNaN(date.getTime())) return formatDate(text);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  const year = date.getFullYear() === now.getFullYear() ? undefined : "numeric";
  return date.toLocaleDateString(undefined, { month: "short", day: "numeric", year });
}

/** The full date and time, and a short one that narrow screens show instead (app.css). */
export function rowDate(text) {
  return h("time", { datetime: text || "", title: formatDate(text) }, h("span", { class: "date-long" }, formatDate(text)), h("span", { class: "date-short" }, shortDate(text)));
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

export function friendlyType(contentType) {
  const type = (contentType || "").split(";")[0].trim().toLowerCase();
  if (FRIENDLY_TYPES[type]) return FRIENDLY_TYPES[type];
  const [major, minor = ""] = type.split("/");
  if (["image", "video", "audio"].includes(major)) return `${minor.replace(/^x-/, "").toUpperCase()} ${major}`;
  return minor ? minor.replace(/^(x-|vnd\.)/, "") : "—";
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function quoted(text) {
  return `“${text}”`;
}

export function folderLabel(folder) {
  return folder ? quoted(folder) : "the top level";
}

/** Disable a button while its action runs, with a label saying so; returns the undo. */
export function busy(button, label) {
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

export async function writeClipboard(text) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
