// The console's small progressive enhancements; every page works without them.
// - [data-dialog]: open the signature form in a modal <dialog> instead of following the link.
// - .verify-form: verify a ledger entry on the server, then again in the browser (WebCrypto).
// - [data-autorefresh]: reload the page after N seconds (reports waiting to be generated).
"use strict";

(function () {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // --- The signature dialog ------------------------------------------------------------------
  document.querySelectorAll("[data-dialog]").forEach(function (opener) {
    const dialog = document.getElementById(opener.dataset.dialog);
    if (!dialog || typeof dialog.showModal !== "function") return;
    opener.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
      const first = dialog.querySelector("input:checked, input:not([type=hidden]), textarea");
      if (first) first.focus();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (closer) {
      closer.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.close();
        opener.focus();
      });
    });
  });

  // --- Verifying a ledger entry ----------------------------------------------------------------
  function hexToBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function bytesToHex(bytes) {
    return Array.from(new Uint8Array(bytes), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function base64ToBytes(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  async function sha256(prefix, ...parts) {
    const length = 1 + parts.reduce(function (n, p) { return n + p.length; }, 0);
    const data = new Uint8Array(length);
    data[0] = prefix;
    let offset = 1;
    parts.forEach(function (p) { data.set(p, offset); offset += p.length; });
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  }

  // RFC 9162 §2.1.3.2: the root implied by an inclusion proof.
  async function rootFromProof(index, size, leafHash, proof) {
    let fn = index, sn = size - 1, r = leafHash;
    for (const p of proof) {
      if (sn === 0) throw new Error("proof too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(1, p, r);
        while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(1, r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  }

  async function browserCheck(result) {
    if (!window.crypto || !crypto.subtle) return { ok: null, text: "browser check needs HTTPS" };
    const leafHash = await sha256(0, base64ToBytes(result.leaf));
    if (bytesToHex(leafHash) !== result.leaf_hash) return { ok: false, text: "leaf hash differs" };
    // The root comes from the signed note itself: origin, size, base64 root (C2SP tlog-checkpoint).
    const lines = result.checkpoint.split("\n");
    const size = parseInt(lines[1], 10);
    const root = base64ToBytes(lines[2]);
    const computed = await rootFromProof(result.seq, size, leafHash, result.proof.map(hexToBytes));
    return bytesToHex(computed) === bytesToHex(root)
      ? { ok: true, text: "proof recomputed in your browser" }
      : { ok: false, text: "proof does not lead to the signed root" };
  }

  function badge(ok, text) {
    const tone = ok === true ? "badge-ok" : ok === false ? "badge-bad" : "badge-muted";
    return el("span", "badge " + tone, text);
  }

  document.querySelectorAll(".verify-form").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const output = form.querySelector(".verify-result");
      const button = form.querySelector("button");
      output.replaceChildren(document.createTextNode("Checking…"));
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error("the server answered " + response.status);
        const result = await response.json();
        const server = result.verified;
        output.title = result.steps.map(function (s) { return s.detail; }).join(" ");
        if (result.differs) {
          // The leaf may prove perfectly; what the page shows is not what it says.
          output.replaceChildren(badge(false, "this record differs from ledger entry #" + result.seq));
          output.append(el("span", "small", " " + result.steps.filter(function (s) { return s.step === "record"; })
            .map(function (s) { return s.detail; }).join(" ")));
          output.dataset.verified = "false";
          return;
        }
        output.replaceChildren(badge(server, server ? "server: verified" : "server: failed"));
        let local;
        try {
          local = await browserCheck(result);
        } catch (error) {
          local = { ok: false, text: error.message };
        }
        output.append(badge(local.ok, "browser: " + (local.ok ? "verified" : local.ok === false ? "failed" : "skipped")));
        output.append(el("span", "small muted", " size " + result.tree_size + "; " + local.text));
        output.dataset.verified = String(server && local.ok !== false);
      } catch (error) {
        output.replaceChildren(badge(false, "could not verify: " + error.message));
      } finally {
        button.disabled = false;
      }
    });
  });

  // --- Auto refresh --------------------------------------------------------------------------------
  document.querySelectorAll("[data-autorefresh]").forEach(function (link) {
    const seconds = parseInt(link.dataset.autorefresh, 10) || 5;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  });
})();
