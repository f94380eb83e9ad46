// A new job, from a request file or from a form that builds the request.
// The job is created only from a body the service has just previewed
// without a problem; any change asks for a new preview. A private key is
// read from its file into this script and sent, never put into the page.
import { api, h, signedIn } from "./console.js";

const form = document.getElementById("new-job");
const problems = document.getElementById("problems");
const result = document.getElementById("preview-result");
const previewButton = document.getElementById("preview");
const submit = document.getElementById("submit");
const fileInput = document.getElementById("request-file");
const fileNote = document.getElementById("request-file-loaded");
const text = document.getElementById("request-text");
let uploaded = null; // the uploaded request's text, never shown: it may hold private keys
let previewed = null; // the body last previewed without a problem

const mode = () => form.elements.mode.value;
const section = () => document.getElementById(`mode-${mode()}`);

function invalidate() {
  previewed = null;
  submit.disabled = true;
  result.hidden = true;
}

/** A labelled control; `path` is its place inside an item of the request. */
function field(label, control, hint, path) {
  return h(
    "label",
    { class: "field", "data-path": path },
    h("span", { class: "label" }, label),
    control,
    hint ? h("small", { class: "hint" }, hint) : null,
  );
}

const templateField = () =>
  field(
    "Template distribution id",
    h("input", { name: "distribution_id", placeholder: "E195R1W5GIVPF5", autocomplete: "off" }),
    "the distribution to clone",
    "existing_cf_info.distribution_id",
  );

function createItem() {
  return [
    field("Domain name", h("input", { name: "domainName", placeholder: "www.example.com" }), null, "domainName"),
    field(
      "Alternative names",
      h("textarea", { name: "sanList", rows: 3, placeholder: "one per line" }),
      "one per line; the domain name is always included",
      "sanList",
    ),
    templateField(),
    field(
      "Configuration version",
      h("input", { name: "config_version_id", inputmode: "numeric", autocomplete: "off" }),
      "optional: a saved version of the template; its live configuration otherwise",
      "existing_cf_info.config_version_id",
    ),
  ];
}

function importItem() {
  const pem = (name, accept) => h("input", { type: "file", name, accept });
  return [
    field("Certificate", pem("CertPem", ".pem,.crt,.cer"), "PEM: the certificate itself", "CertPem"),
    field("Private key", pem("PrivateKeyPem", ".pem,.key"), "PEM, unencrypted; never shown", "PrivateKeyPem"),
    field(
      "Chain",
      pem("ChainPem", ".pem,.crt"),
      "PEM: the intermediates, the certificate's issuer first, without the root",
      "ChainPem",
    ),
    templateField(),
  ];
}

/** The item lists of the two forms. */
const LISTS = {
  create: { list: "cnameList", noun: "Domain", make: createItem },
  import: { list: "pemList", noun: "Certificate", make: importItem },
};

function items(kind) {
  return [...document.getElementById(`${kind}-items`).children];
}

/** Each item's fields carry their place in the request (cnameList[1].sanList),
 * where the service's errors are shown. */
function renumber(kind) {
  const { list, noun } = LISTS[kind];
  items(kind).forEach((item, index) => {
    item.dataset.field = `${list}[${index}]`;
    item.querySelector("legend").textContent = `${noun} ${index + 1}`;
    for (const labelled of item.querySelectorAll("[data-path]")) {
      labelled.dataset.field = `${list}[${index}].${labelled.dataset.path}`;
    }
  });
}

function addItem(kind) {
  const item = h(
    "fieldset",
    { class: "item" },
    h("legend", {}),
    LISTS[kind].make(),
    h("button", { type: "button", class: "quiet" }, "Remove"),
  );
  item.lastChild.addEventListener("click", () => {
    item.remove();
    renumber(kind);
    invalidate();
  });
  document.getElementById(`${kind}-items`).append(item);
  renumber(kind);
  invalidate();
}

function templateOf(item) {
  const id = item.querySelector('[name="distribution_id"]').value.trim();
  const version = item.querySelector('[name="config_version_id"]')?.value.trim();
  if (!id && !version) return undefined;
  return version ? { distribution_id: id, config_version_id: version } : { distribution_id: id };
}

/** The request body, as the chosen way of describing the job makes it. */
async function build() {
  if (mode() === "file") return uploaded ?? text.value;
  if (mode() === "create") {
    const cnameList = items("create").map((item) => {
      const value = (name) => item.querySelector(`[name="${name}"]`).value.trim();
      const entry = { domainName: value("domainName"), sanList: value("sanList").split(/[\s,]+/).filter(Boolean) };
      const template = templateOf(item);
      return template ? { ...entry, existing_cf_info: template } : entry;
    });
    const auto = document.getElementById("create-auto").checked;
    return JSON.stringify({ acm_op: "create", auto_creation: String(auto), cnameList });
  }
  const pemList = await Promise.all(
    items("import").map(async (item) => {
      const read = async (name) => (await item.querySelector(`[name="${name}"]`).files[0]?.text()) ?? "";
      const entry = {
        CertPem: await read("CertPem"),
        PrivateKeyPem: await read("PrivateKeyPem"),
        ChainPem: await read("ChainPem"),
      };
      const template = templateOf(item);
      return template ? { ...entry, existing_cf_info: template } : entry;
    }),
  );
  const auto = document.getElementById("import-auto").checked;
  return JSON.stringify({ acm_op: "import", auto_creation: String(auto), cnameList: [], pemList });
}

function clearProblems() {
  problems.replaceChildren();
  problems.hidden = true;
  for (const slot of form.querySelectorAll(".field-error")) slot.remove();
  for (const marked of form.querySelectorAll(".invalid")) marked.classList.remove("invalid");
}

function outer(location) {
  const cut = Math.max(location.lastIndexOf("."), location.lastIndexOf("["));
  return cut > 0 ? location.slice(0, cut) : "";
}

/** An error at its field: the field itself, else the nearest item field or
 * item that holds its place; else the list above the buttons. */
function problem(location, message) {
  for (let place = location; place.includes("["); place = outer(place)) {
    const target = section().querySelector(`[data-field="${CSS.escape(place)}"]`);
    if (!target) continue;
    target.classList.add("invalid");
    const slot = h("span", { class: "field-error" }, place === location ? message : `${location}: ${message}`);
    if (target.tagName === "FIELDSET") target.querySelector("legend").after(slot);
    else target.append(slot);
    return;
  }
  problems.append(h("p", { class: "error" }, location ? h("code", {}, location) : null, location ? ": " : null, message));
  problems.hidden = false;
}

function failed(failure) {
  const errors = failure.body?.errors;
  if (errors?.length) {
    problem("", `${errors.length} problem${errors.length === 1 ? "" : "s"}: nothing was created.`);
    for (const { location, message } of errors) problem(location, message);
  } else if (failure.status !== 401) {
    problem("", failure.message);
  }
}

function shownPreview(answer) {
  const template = (from) =>
    from
      ? `${from.distributionId}, ${from.version ? `version ${from.version}` : "its live configuration"}`
      : "none (auto_creation is false)";
  result.querySelector("h2").textContent = `This ${answer.jobType} job will create`;
  result.querySelector("tbody").replaceChildren(
    ...answer.items.map((item) =>
      h(
        "tr",
        { "data-item": item.key },
        h("td", {}, item.key),
        h("td", {}, item.names.join(", ")),
        h("td", {}, item.certificate),
        h("td", {}, template(item.distributionFrom)),
      ),
    ),
  );
  result.hidden = false;
}

async function preview() {
  clearProblems();
  invalidate();
  const body = await build();
  if (!body.trim()) return problem("", "Give a request first.");
  previewButton.disabled = true;
  try {
    shownPreview(await api("/ssl_for_saas/preview", { method: "POST", body }));
    previewed = body;
    submit.disabled = false;
  } catch (failure) {
    failed(failure);
  } finally {
    previewButton.disabled = false;
  }
}

async function create(event) {
  event.preventDefault();
  if (previewed === null) return;
  const body = previewed;
  invalidate();
  clearProblems();
  try {
    const answer = await api("/ssl_for_saas", { method: "POST", body });
    location.assign(`/console/jobs/${encodeURIComponent(answer.body)}`);
  } catch (failure) {
    failed(failure);
  }
}

async function loaded() {
  const file = fileInput.files[0];
  uploaded = file ? await file.text() : null;
  text.disabled = uploaded !== null;
  fileNote.hidden = uploaded === null;
  if (file) {
    const again = h("button", { type: "button", class: "quiet" }, "paste instead");
    again.addEventListener("click", () => {
      fileInput.value = "";
      loaded();
    });
    fileNote.replaceChildren(
      `Loaded ${file.name} (${file.size} bytes). Its text is not shown: a request can hold private keys. `,
      again,
    );
  }
  invalidate();
}

function shownMode() {
  for (const kind of ["file", "create", "import"]) {
    document.getElementById(`mode-${kind}`).hidden = kind !== mode();
  }
  clearProblems();
  invalidate();
}

if (signedIn()) {
  form.addEventListener("input", invalidate);
  form.addEventListener("change", invalidate);
  form.addEventListener("submit", create);
  for (const radio of form.elements.mode) radio.addEventListener("change", shownMode);
  fileInput.addEventListener("change", loaded);
  previewButton.addEventListener("click", preview);
  document.getElementById("create-add").addEventListener("click", () => addItem("create"));
  document.getElementById("import-add").addEventListener("click", () => addItem("import"));
  addItem("create");
  addItem("import");
  shownMode();
}
