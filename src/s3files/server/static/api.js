// The one helper for requests to the s3files service's JSON API (/api/v1), shared by the web
// file manager and by uploader.js (which third-party pages import from /static/uploader.js).
//
//   import { request, ApiError } from "/static/api.js";
//   const page = await request("/api/v1", "GET", "/files", { query: { limit: 10 }, token });
//
// Every failure becomes an ApiError carrying the service's stable code ({"error", "detail"}),
// its detail and the HTTP status (0 when the service could not be reached at all).

export class ApiError extends Error {
  constructor(code, detail, status) {
    super(detail || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** The absolute URL of `path` under the API root `base`, with the non-empty `query` values. */
export function apiUrl(base, path, query = {}) {
  const url = new URL(base.replace(/\/$/, "") + path, globalThis.location?.href);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  return url;
}

/** Sends one JSON request and returns the decoded answer (null for 204); throws ApiError. */
export async function request(base, method, path, { query = {}, body, token = null } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl(base, path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network_error", "could not reach the s3files service", 0);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(data?.error || "http_error", data?.detail || response.statusText, response.status);
  return data;
}

/** The raw answer to one request (a thumbnail, the start of a file, a zip); throws ApiError
 * for a failure, with the service's code when it sent one. */
export async function fetchRaw(base, method, path, { query = {}, body, token = null, headers = {}, signal } = {}) {
  const sent = { ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl(base, path, query), {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error?.name === "AbortError") throw new ApiError("aborted", "cancelled", 0);
    throw new ApiError("network_error", "could not reach the s3files service", 0);
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(data?.error || "http_error", data?.detail || response.statusText, response.status);
  }
  return response;
}
