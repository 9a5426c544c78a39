// s3files browser uploader: files go straight to the store, the service only signs and checks.
//
//   import { Uploader } from "/static/uploader.js";
//   const uploader = new Uploader({ token: "s3f_…" });
//   const file = await uploader.upload(input.files[0], { folder: "docs", onProgress });
//
// Small files: one presigned POST form. Large files: a multipart upload, parts PUT in
// parallel to presigned URLs; its state is kept in localStorage, so after a reload the same
// file resumes where it stopped instead of starting over.
//
// An ES module: it imports the request helper from ./api.js, served beside it (so a page on
// another origin loads both from the service, which answers them with CORS headers).

import { ApiError, request } from "./api.js";

const MiB = 1024 * 1024;

// Errors from the service and from the store are the same class as the web page's.
export { ApiError as UploadError };

function send(method, url, body, { headers = {}, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new ApiError("network_error", `could not reach ${new URL(url).host}`, 0));
    xhr.onabort = () => reject(new ApiError("aborted", "upload cancelled", 0));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

function storeError(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);  // the local store, served by s3files, answers JSON
    if (body && body.error) return new ApiError(body.error, body.detail, xhr.status);
  } catch (error) { /* an S3 server's XML */ }
  const code = (xhr.responseText.match(/<Code>([^<]+)<\/Code>/) || [])[1];
  const messages = {
    EntityTooLarge: "the file is larger than allowed",
    AccessDenied: "the upload form was refused (expired or altered)",
  };
  return new ApiError(code || "store_error", messages[code] || `the store answered ${xhr.status}`, xhr.status);
}

export class Uploader {
  constructor({ api = "/api/v1", token = null, partThreshold = 64 * MiB, concurrency = 3, storage = globalThis.localStorage } = {}) {
    this.api = api.replace(/\/$/, "");
    this.token = token;
    this.partThreshold = partThreshold;
    this.concurrency = concurrency;
    this.storage = storage;
  }

  /** One request to the service's API (the helper in api.js, with this uploader's key). */
  call(method, path, body) {
    return request(this.api, method, path, { body, token: this.token });
  }

  describe(file, options) {
    const body = { original_filename: file.name, content_type: file.type || "application/octet-stream" };
    if (options.folder) body.folder = options.folder;
    if (options.description) body.description = options.description;
    if (options.metadata) body.metadata = options.metadata;
    if (options.isPublic) body.is_public = true;
    return body;
  }

  upload(file, options = {}) {
    return file.size >= this.partThreshold ? this.uploadInParts(file, options) : this.uploadWithForm(file, options);
  }

  async uploadWithForm(file, options = {}) {
    const { onProgress = () => {}, signal } = options;
    const form = await this.call("POST", "/uploads", { ...this.describe(file, options), max_file_size: file.size });
    const data = new FormData();
    for (const [name, value] of Object.entries(form.form_fields)) data.append(name, value);
    data.append("file", file);
    const xhr = await send("POST", form.form_url, data, { onProgress: (sent) => onProgress(Math.min(sent, file.size), file.size), signal });
    if (xhr.status >= 300) throw storeError(xhr);
    onProgress(file.size, file.size);
    return this.call("POST", `/uploads/${form.upload_id}/complete`);
  }

  resumeKey(file) {
    return `s3files-upload:${file.name}:${file.size}:${file.lastModified}`;
  }

  async uploadInParts(file, options = {}) {
    const { onProgress = () => {}, signal } = options;
    const key = this.resumeKey(file);
    let state = null;
    let done = new Map();
    const saved = this.storage?.getItem(key);
    if (saved) {
      state = JSON.parse(saved);
      try {
        for (const part of await this.call("GET", `/uploads/${state.upload_id}/parts`)) done.set(part.number, part.size);
      } catch (error) {
        state = null;  // expired, completed or aborted meanwhile: start over
        done = new Map();
      }
    }
    if (!state) {
      state = await this.call("POST", "/uploads/multipart", { ...this.describe(file, options), size: file.size });
      this.storage?.setItem(key, JSON.stringify(state));
    }
    const progress = new Map(done);
    const report = () => onProgress([...progress.values()].reduce((a, b) => a + b, 0), file.size);
    report();
    const todo = [];
    for (let number = 1; number <= state.part_count; number++) if (!done.has(number)) todo.push(number);
    while (todo.length) {
      const batch = todo.splice(0, 100);
      const { parts } = await this.call("POST", `/uploads/${state.upload_id}/parts`, { part_numbers: batch });
      const queue = [...parts];
      const worker = async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          const start = (part.number - 1) * state.part_size;
          const blob = file.slice(start, Math.min(start + state.part_size, file.size));
          const xhr = await send("PUT", part.url, blob, { signal, onProgress: (sent) => { progress.set(part.number, sent); report(); } });
          if (xhr.status >= 300) throw storeError(xhr);
          progress.set(part.number, blob.size);
          report();
        }
      };
      await Promise.all(Array.from({ length: this.concurrency }, worker));
    }
    const record = await this.call("POST", `/uploads/${state.upload_id}/complete`);
    this.storage?.removeItem(key);
    return record;
  }
}
