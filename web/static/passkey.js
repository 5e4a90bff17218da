// Gatehouse dashboard: passkeys (WebAuthn). Each form marked data-passkey-* asks its
// data-options URL for the ceremony's options (a same-origin POST carrying the form's CSRF
// token), lets the browser make or use a passkey, puts the result in the form's hidden
// "credential" field (PublicKeyCredential.toJSON()) and submits the form as usual.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBuffer(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toBase64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBuffer(c.id) }); });
  }
  // Older browsers lack the JSON helpers: convert the few binary members by hand.
  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    return Object.assign({}, o, { challenge: toBuffer(o.challenge), user: Object.assign({}, o.user, { id: toBuffer(o.user.id) }),
      excludeCredentials: ids(o.excludeCredentials) });
  }
  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    return Object.assign({}, o, { challenge: toBuffer(o.challenge), allowCredentials: ids(o.allowCredentials) });
  }
  function credentialJSON(c) {
    if (typeof c.toJSON === "function") return c.toJSON();
    var r = c.response, out = { id: c.id, rawId: toBase64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment, clientExtensionResults: c.getClientExtensionResults(), response: {} };
    ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"].forEach(function (k) {
      if (r[k]) out.response[k] = toBase64url(r[k]);
    });
    if (r.getTransports) out.response.transports = r.getTransports();
    return out;
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) status.textContent = text;
  }
  function field(form, name) { return form.querySelector("input[name='" + name + "']"); }

  // options posts the form's hidden fields (CSRF token, mfa_token) and returns the JSON answer.
  function options(form) {
    var body = new URLSearchParams();
    form.querySelectorAll("input[type='hidden']").forEach(function (i) { body.append(i.name, i.value); });
    return fetch(form.getAttribute("data-options"), { method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json" } }).then(function (res) {
      return res.json().then(function (j) {
        if (!res.ok) throw new Error(j.error || "The server did not answer; try again.");
        return j;
      });
    });
  }
  function finish(form, ceremony, credential) {
    var id = field(form, "ceremony_id");
    if (id) id.value = ceremony || "";
    field(form, "credential").value = JSON.stringify(credentialJSON(credential));
    form.submit();
  }
  function failed(form, err, what) {
    if (err && err.name === "AbortError") return;
    if (err && (err.name === "NotAllowedError" || err.name === "InvalidStateError")) {
      say(form, what + " was cancelled, timed out, or this passkey is already registered.");
    } else {
      say(form, (err && err.message) || "Something went wrong; try again.");
    }
  }

  // Sign-in: a button, and the browser's autofill list (conditional UI) on the email field.
  var pending = null;
  function signIn(form, conditional) {
    if (pending) pending.abort();
    var ctrl = new AbortController();
    pending = ctrl;
    if (!conditional) say(form, "Waiting for your passkey…");
    return options(form).then(function (o) {
      var req = { publicKey: requestOptions(o.publicKey), signal: ctrl.signal };
      if (conditional) req.mediation = "conditional";
      return navigator.credentials.get(req).then(function (c) {
        if (c) finish(form, o.ceremony_id, c);
      });
    }).catch(function (err) { if (!conditional) failed(form, err, "The sign-in"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-passkey-login]").forEach(function (form) {
      form.hidden = false;
      form.querySelector("[data-passkey-button]").addEventListener("click", function () { signIn(form, false); });
      if (PublicKeyCredential.isConditionalMediationAvailable) {
        PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
          if (ok) signIn(form, true);
        });
      }
    });

    document.querySelectorAll("form[data-passkey-mfa]").forEach(function (form) {
      form.hidden = false;
      form.querySelector("[data-passkey-button]").addEventListener("click", function () {
        say(form, "Waiting for your passkey…");
        options(form).then(function (o) {
          return navigator.credentials.get({ publicKey: requestOptions(o.publicKey) }).then(function (c) { finish(form, "", c); });
        }).catch(function (err) { failed(form, err, "The sign-in"); });
      });
    });

    document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (field(form, "credential").value) return;
        event.preventDefault();
        say(form, "Follow your browser's prompts to create the passkey…");
        options(form).then(function (o) {
          return navigator.credentials.create({ publicKey: creationOptions(o.publicKey) }).then(function (c) {
            finish(form, o.ceremony_id, c);
          });
        }).catch(function (err) { failed(form, err, "Adding the passkey"); });
      });
    });
  });
})();
