// Copy buttons: <button data-copy="#id"> copies the text of that element. No inline scripts (CSP).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Security keys: a <form data-webauthn="create|get" data-webauthn-options="id"> asks the browser
// for a credential with the options in that JSON script element, puts the browser's answer in the
// form's hidden "credential" field and submits. Failures show the form's data-error-text.
function webauthnCeremony(form) {
  const options = JSON.parse(document.getElementById(form.dataset.webauthnOptions).textContent);
  const status = form.querySelector("[data-webauthn-status]");
  const button = form.querySelector("button[type=submit]");
  const ask = form.dataset.webauthn === "create"
    ? () => navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey),
      })
    : () => navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
      });
  if (button) button.disabled = true;
  if (status) { status.hidden = false; status.textContent = form.dataset.waitText || ""; }
  Promise.resolve()
    .then(() => {
      if (!window.PublicKeyCredential) throw new Error("WebAuthn is not available");
      return ask();
    })
    .then((credential) => {
      form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
      form.submit();
    })
    .catch(() => {
      if (button) button.disabled = false;
      if (status) status.textContent = form.dataset.errorText || "";
    });
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-webauthn]");
  if (!form || form.querySelector("input[name=credential]").value) return;
  event.preventDefault();
  webauthnCeremony(form);
});

// Background work: <section data-progress-url="..."> polls that URL (JSON: percent, text, done)
// every second and updates its <progress> and [data-progress-text]; when the work is done the
// page reloads to show the result. The person may leave and come back: the state is stored.
function pollProgress(box) {
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((state) => {
      if (bar) bar.value = state.percent;
      if (text) text.textContent = state.text;
      if (state.done) window.location.reload();
      else window.setTimeout(() => pollProgress(box), 1000);
    })
    .catch(() => window.setTimeout(() => pollProgress(box), 5000));
}

document.querySelectorAll("[data-progress-url]").forEach((box) => {
  window.setTimeout(() => pollProgress(box), 1000);
});

// Select all: <input type="checkbox" data-check-all="name"> ticks or clears every checkbox
// named "name" in its form (the retention overview's selection).
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-check-all]");
  if (!all || !all.form) return;
  all.form.querySelectorAll(`input[type=checkbox][name="${all.dataset.checkAll}"]`).forEach((box) => {
    box.checked = all.checked;
  });
});
