// The page's shared state and settings, and its API calls (api.js's helper with the key this
// tab is signed in with).

import { request } from "./api.js";

export const API = new URL("../api/v1", import.meta.url).href;
export const TOKEN_KEY = "s3files:api-key";
const params = new URLSearchParams(location.search);
export const PART_THRESHOLD = Number(params.get("partThreshold")) || undefined; // for tests; else the uploader's default
export const PAGE_SIZE = Math.min(Math.max(Number(params.get("pageSize")) || 50, 1), 200);
export const PARALLEL_FILES = 2;
export const SHARE_LINK_SECONDS = 3600; // capped by the service's S3_PRESIGNED_URL_EXPIRY

export const state = {
  token: null,
  trash: false,
  search: "",
  folder: "",
  items: [],
  cursor: null,
  loading: false,
  listSeq: 0,
  selectedId: null,
  folders: new Set(),
  uploads: [],
};

// Calls upward: the list opens the details panel, any refused key signs the tab out. Modules
// import only the ones below them (dom, messages, state, panel, list, links, actions,
// details, auth, upload, main); main.js fills these in.
export const hooks = {
  openDetails: (id, options) => {},
  signOut: (message) => {},
};

/** A request to the service with this tab's key; a 401 for that key signs the tab out. */
export async function api(method, path, { query = {}, body, token = state.token } = {}) {
  try {
    return await request(API, method, path, { query, body, token });
  } catch (error) {
    if (error.status === 401 && token === state.token && state.token) hooks.signOut("Your key is no longer accepted — sign in again.");
    throw error;
  }
}
