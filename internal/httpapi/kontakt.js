/* kontakt.js: sends a plain HTML contact form with fetch and shows the
   answer in the page. Served by kontakt at /f/{form}/kontakt.js; no
   dependencies. Without it (or without JavaScript) the form still works as
   a plain post. It enhances every form whose action is this form's endpoint,
   and every form with a data-kontakt attribute. */
(function (config) {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  var endpoint = script.src.replace(/\/kontakt\.js([?#].*)?$/, "");
  var text = config.texts[language()];

  // The same choice the server makes from Accept-Language, so that the
  // script's own texts match the messages the server sends.
  function language() {
    var tags = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < tags.length; i++) {
      var p = String(tags[i]).toLowerCase().split("-")[0];
      if (p === "nb" || p === "no" || p === "nn") return "nb";
      if (p === "en") return "en";
    }
    return config.language;
  }

  function bare(url) { return String(url).split(/[?#]/)[0].replace(/\/$/, ""); }

  function enhance(form) {
    if (form.hasAttribute("data-kontakt-ready")) return;
    form.setAttribute("data-kontakt-ready", "");
    // Every field message then comes from one place, the form's rules on
    // the server, in the visitor's language; without the script the
    // browser's own checks (required, type=email) still run.
    form.noValidate = true;
    // Counted page-wide, not per copy of the script: a page loads each of
    // its forms' scripts, and their messages' ids must not meet. On the
    // root element, where no element of the page can shadow the count (a
    // window property can be an element's id).
    var count = document.documentElement.dataset;
    var id = "kontakt-" + (count.kontaktForms = +(count.kontaktForms || 0) + 1);
    var status = form.querySelector("[data-kontakt-status]");
    if (!status) {
      status = document.createElement("p");
      form.appendChild(status);
    }
    status.classList.add("kontakt-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var message = {};
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send(form, status, id, ev.submitter, message);
    });
  }

  // Fields that change between two sends of the same message: the key
  // itself, the form-age token and captcha answers (single-use).
  var notContent = /^(_idempotency_key|_t|cf-turnstile-response|h-captcha-response|g-recaptcha-response)$/;

  // keyFor gives the message in body its idempotency key: the same for a
  // double click or a retry of the same content (kontakt then answers like
  // the first post and sends no second email), a new random one once the
  // message was accepted or its content changed. A key is never shared:
  // one written into the page would be every visitor's.
  function keyFor(message, body) {
    var content = [];
    body.forEach(function (v, k) { if (!notContent.test(k)) content.push(encodeURIComponent(k) + "=" + encodeURIComponent(v)); });
    content = content.join("&");
    if (!message.key || message.content !== content) {
      message.key = randomKey();
      message.content = content;
    }
    return message.key;
  }

  // 128 random bits in hex (crypto.randomUUID needs HTTPS; this does not).
  function randomKey() {
    var c = window.crypto, out = "";
    if (c && c.getRandomValues) c.getRandomValues(new Uint8Array(16)).forEach(function (v) { out += (v + 256).toString(16).slice(1); });
    return out;
  }

  function send(form, status, id, submitter, message) {
    if (form.getAttribute("aria-busy") === "true") return;
    clear(form);
    form.setAttribute("aria-busy", "true");
    show(status, "sending", text.sending);
    // URL-encoded, like the plain post: the same fields reach the server,
    // and a simple request needs no CORS preflight.
    var body = new URLSearchParams(), data, files = [];
    try { data = new FormData(form, submitter); } catch (e) { data = new FormData(form); }
    data.forEach(function (v, k) {
      if (typeof v === "string") body.append(k, v);
      else if (v && (v.size > 0 || v.name)) files.push({ field: k, file: v });
    });
    // Files go straight to storage (direct uploads), each with a presigned
    // upload kontakt hands out, and the post names them in _uploads: a
    // post can carry only about 4 MB.
    upload(form, status, id, message, files)
      .then(function (ids) {
        if (ids === null) return; // refused or failed: already shown
        if (ids.length) body.append("_uploads", ids.join(","));
        // A field, not the Idempotency-Key header: a header would need a
        // preflight. It replaces any key written into the page.
        var key = keyFor(message, body);
        body.delete("_idempotency_key");
        if (key) body.append("_idempotency_key", key);
        return fetch(form.action, { method: "POST", body: body, credentials: "omit", headers: { Accept: "application/json" } })
          // An answer that is not JSON (a gateway error page) is a failure
          // kontakt did not describe; only a rejected fetch is "no answer".
          .then(function (res) { return res.json().catch(function () { return null; }); })
          .then(function (answer) {
            // Accepted (or the key was refused): the next message gets a
            // new key. Accepted, or an upload refused: new uploads next time.
            if (answer && (answer.ok === true || answer.error === "idempotency_key_reused")) message.key = "";
            if (answer && (answer.ok === true || refusedUploads(answer))) message.uploads = {};
            done(form, status, id, answer);
          });
      })
      .catch(function () {
        show(status, "error", text.network);
        console.warn("kontakt: no answer from " + form.action +
          ". If the network works, check that " + location.origin + " is one of the form's allowed_origins.");
      })
      .then(function () { form.removeAttribute("aria-busy"); });
  }

  function refusedUploads(answer) {
    return (answer.errors || []).some(function (e) { return e.field === "_uploads"; });
  }

  // upload sends each file to a direct upload and resolves to their ids,
  // or to null when kontakt refused one (its errors are shown at the file's
  // field) or storage did not take it. A file sent before, in a post that
  // was not accepted, keeps its id: kontakt gave the upload back, and the
  // same ids keep the same idempotency key.
  function upload(form, status, id, message, files) {
    message.uploads = message.uploads || {};
    var ids = [];
    var chain = Promise.resolve(true);
    files.forEach(function (f) {
      var sig = [f.field, f.file.name, f.file.size, f.file.lastModified].join("/");
      chain = chain.then(function (ok) {
        if (!ok) return false;
        if (message.uploads[sig]) { ids.push(message.uploads[sig]); return true; }
        return fetch(form.action + "/uploads", {
          method: "POST", credentials: "omit",
          headers: { Accept: "application/json", "Content-Type": "application/json" },
          body: JSON.stringify({ field: f.field, name: f.file.name, size: f.file.size, type: f.file.type })
        })
          .then(function (res) { return res.json().catch(function () { return null; }); })
          .then(function (ticket) {
            if (!ticket || ticket.ok !== true) { done(form, status, id, ticket); return false; }
            return fetch(ticket.url, { method: ticket.method, headers: ticket.headers, body: f.file, credentials: "omit" })
              .then(function (res) {
                if (!res.ok) { show(status, "error", text.failed); return false; }
                message.uploads[sig] = ticket.id;
                ids.push(ticket.id);
                return true;
              });
          });
      });
    });
    return chain.then(function (ok) { return ok ? ids : null; });
  }

  function done(form, status, id, answer) {
    if (answer && answer.ok === true) {
      // next is always there (Formspree's clients need it); redirect says
      // the post or the form asked to go there, as a plain post would.
      if (answer.redirect && answer.next) { location.assign(answer.next); return; }
      form.reset();
      show(status, "success", answer.message);
      return;
    }
    if (!answer || answer.ok !== false) { show(status, "error", text.failed); return; }
    var other = [];
    (answer.errors || []).forEach(function (e) {
      var field = e.field && form.elements.namedItem(e.field);
      if (field && !field.tagName) field = field[0]; // radio buttons, checkboxes
      if (!field || field.type === "hidden") {
        // A form-level error repeats the answer's own message.
        if (e.message !== answer.message && other.indexOf(e.message) < 0) other.push(e.message);
        return;
      }
      mark(form, field, id, e);
    });
    show(status, "error", [answer.message].concat(other).join(" "));
    // The first marked field on the page, where the visitor starts fixing.
    var first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  function show(status, state, message) {
    status.setAttribute("data-kontakt-state", state);
    status.textContent = message || "";
  }

  // mark puts the message next to the field (after its label when the
  // field sits inside one, so the message does not become part of the
  // field's name) and ties it to the field for screen readers.
  function mark(form, field, id, e) {
    var out = form.querySelector('[data-kontakt-error-for="' + e.field.replace(/["\\]/g, "") + '"]');
    if (!out) {
      out = document.createElement("span");
      out.setAttribute("data-kontakt-error", "");
      (field.closest("label") || field).insertAdjacentElement("afterend", out);
    }
    out.classList.add("kontakt-error");
    out.id = out.id || id + "-" + e.field.replace(/[^A-Za-z0-9_-]/g, "_") + "-error";
    out.textContent = e.message;
    field.setAttribute("aria-invalid", "true");
    var by = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (by.indexOf(out.id) < 0) by.push(out.id);
    field.setAttribute("aria-describedby", by.join(" "));
    field.setAttribute("data-kontakt-described", out.id);
  }

  function clear(form) {
    form.querySelectorAll("[data-kontakt-error]").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[data-kontakt-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[data-kontakt-described]").forEach(function (field) {
      var gone = field.getAttribute("data-kontakt-described");
      var by = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (t) { return t && t !== gone; });
      if (by.length) field.setAttribute("aria-describedby", by.join(" "));
      else field.removeAttribute("aria-describedby");
      field.removeAttribute("data-kontakt-described");
      field.removeAttribute("aria-invalid");
    });
  }

  function scan() {
    for (var i = 0; i < document.forms.length; i++) {
      var f = document.forms[i];
      if (f.hasAttribute("data-kontakt") || bare(f.action) === endpoint) enhance(f);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})(/*config*/{ "language": "nb", "texts": { "nb": {}, "en": {} } });
