// The page's shared state and settings, and its API calls (api.js's helper with the key this
// tab is signed in with).

import { fetchRaw, request } from "./api.js";

export const API = new URL("../api/v1", import.meta.url).href;
export const TOKEN_KEY = "s3files:api-key";
const params = new URLSearchParams(location.search);
export const PART_THRESHOLD = Number(params.get("partThreshold")) || undefined; // for tests; else the uploader's default
export const PAGE_SIZE = Math.min(Math.max(Number(params.get("pageSize")) || 50, 1), 200);
export const PARALLEL_FILES = 2;
export const SHARE_LINK_SECONDS = 3600; // capped by the service's S3_PRESIGNED_URL_EXPIRY

export const state = {
  token: null,
  me: null, // {owner, admin, max_file_size, allowed_extensions, allowed_mime_types, ...} from /config
  trash: false,
  search: "",
  folder: "", // the folder shown; "" the top level
  subfolders: [], // {path, name, files, bytes} of the folder shown
  items: [],
  cursor: null,
  sort: "name",
  order: "asc",
  loading: false,
  listSeq: 0,
  selectedId: null, // the file whose details are open
  selection: new Set(), // "f:<id>" for files, "d:<path>" for folders
  anchor: null, // where a Shift range starts
  uploads: [],
};

// Calls upward: the list opens the details panel or a folder, any refused key signs the tab
// out. Modules import only the ones before them in main.js's list; main.js fills these in.
export const hooks = {
  openDetails: (id, options) => {},
  signOut: (message) => {},
  openFolder: (path, options) => {},
  showAddress: () => {},
  refresh: () => {},
  selectionChanged: () => {},
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

/** The raw answer (thumbnails, the start of a file, zips) with this tab's key. */
export async function apiRaw(method, path, options = {}) {
  try {
    return await fetchRaw(API, method, path, { token: state.token, ...options });
  } catch (error) {
    if (error.status === 401 && state.token) hooks.signOut("Your key is no longer accepted — sign in again.");
    throw error;
  }
}

export const fileKey = (id) => `f:${id}`;
export const folderKey = (path) => `d:${path}`;
export const parentOf = (path) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
export const baseName = (path) => path.slice(path.lastIndexOf("/") + 1);
