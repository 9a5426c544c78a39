// Direct uploads of s3files' DirectUploadWidget: sign, post the file straight to the
// bucket, then hand the form the upload id (the server verifies it when the form is saved).
(function () {
  "use strict";

  function csrfToken(picker) {
    const field = picker.form && picker.form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function show(box, state, text) {
    box.dataset.state = state;
    box.querySelector(".s3files-status").textContent = text;
  }

  async function upload(picker) {
    const box = picker.closest(".s3files-direct-upload-field");
    const hidden = box.querySelector("input.s3files-upload-id");
    const file = picker.files[0];
    hidden.value = "";
    if (!file) {
      show(box, "empty", "");
      return;
    }
    show(box, "uploading", "uploading " + file.name + "…");
    const request = new FormData();
    request.append("target", picker.dataset.s3filesTarget);
    request.append("filename", file.name);
    request.append("content_type", file.type || "application/octet-stream");
    request.append("size", String(file.size));
    const signed = await fetch(picker.dataset.s3filesSignUrl, {
      method: "POST",
      body: request,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(picker) },
    });
    const answer = await signed.json().catch(() => ({ error: "the upload could not be signed" }));
    if (!signed.ok || !answer.success) {
      show(box, "failed", "not uploaded: " + (answer.error || signed.statusText));
      return;
    }
    const form = new FormData();
    for (const [name, value] of Object.entries(answer.form_fields)) form.append(name, value);
    form.append("file", file); // the store wants the file last
    const sent = await fetch(answer.form_url, { method: "POST", body: form, mode: "cors" });
    if (!sent.ok) {
      const text = await sent.text().catch(() => "");
      const code = (text.match(/<Code>([^<]+)<\/Code>/) || [])[1] || String(sent.status);
      show(box, "failed", "not uploaded: the store refused the file (" + code + ")");
      return;
    }
    hidden.value = answer.upload_id;
    show(box, "uploaded", "uploaded " + file.name + ", saved with the form");
  }

  document.addEventListener("change", function (event) {
    const picker = event.target;
    if (!(picker instanceof HTMLInputElement) || !picker.dataset.s3filesSignUrl) return;
    upload(picker).catch(function (error) {
      const box = picker.closest(".s3files-direct-upload-field");
      show(box, "failed", "not uploaded: " + error.message);
    });
  });

  // A form is not submitted while one of its files is still on its way to the store.
  document.addEventListener(
    "submit",
    function (event) {
      if (event.target.querySelector(".s3files-direct-upload-field[data-state=uploading]")) {
        event.preventDefault();
      }
    },
    true,
  );
})();
