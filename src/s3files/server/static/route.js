// Where the page is, in the address: the folder shown, the trash, the search, as the URL's
// hash (#/files/<folder>, #/trash, then ?q=<search>), so that folders can be linked to,
// reloaded, and left with the browser's Back and Forward.

import { state } from "./state.js";

/** The view a hash names: {folder, trash, search}; anything else is the top level. */
export function routeOf(hash = location.hash) {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const search = new URLSearchParams(query).get("q")?.trim() || "";
  const parts = path.split("/").filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  if (parts[0] === "trash") return { folder: "", trash: true, search };
  return { folder: parts[0] === "files" ? parts.slice(1).join("/") : "", trash: false, search };
}

/** The hash of the view shown. */
export function currentHash() {
  const path = state.trash ? "#/trash" : `#/files${state.folder ? `/${state.folder.split("/").map(encodeURIComponent).join("/")}` : ""}`;
  return state.search ? `${path}?${new URLSearchParams({ q: state.search })}` : path;
}

/** Whether the view shown is the one `route` names. */
export function showing(route) {
  return route.trash === state.trash && route.search === state.search && (route.trash || route.folder === state.folder);
}

/** Writes the view shown into the address: a new history entry ("push": a folder or the
 * trash opened) or the current one replaced ("replace": a search typed, a folder gone). */
export function writeRoute(how = "push") {
  if (showing(routeOf())) return; // the bare "/" is the top level too
  if (how === "push") history.pushState(null, "", currentHash());
  else history.replaceState(null, "", currentHash());
}
