// The details panel's frame: closing it, and at phone width keeping what it covers out of
// the focus order. (Opening it, with its content, is details.js.)

import { $ } from "./dom.js";
import { state } from "./state.js";

// At phone width the details panel covers the page: what is under it must not take focus.
export const PHONE = window.matchMedia("(max-width: 760px)");
const UNDER_DETAILS = [".topbar", ".page-head", "#filters", "#dropzone", "#uploads", ".files"];

export function updateInert() {
  const cover = PHONE.matches && !$("details").hidden;
  for (const selector of UNDER_DETAILS) document.querySelector(selector).inert = cover;
}

export function closeDetails(returnFocus = true) {
  const id = state.selectedId;
  state.selectedId = null;
  $("details").hidden = true;
  $("workspace").classList.remove("has-details");
  document.body.classList.remove("details-open");
  updateInert();
  for (const row of $("file-rows").rows) {
    row.classList.remove("is-open");
    row.querySelector(".file-name")?.setAttribute("aria-expanded", "false");
  }
  if (returnFocus && id) {
    const button = [...$("file-rows").rows].find((row) => row.dataset.id === id)?.querySelector(".file-name");
    (button || $("search")).focus();
  }
}
