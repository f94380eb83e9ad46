// One job: its stages, its items, its DNS validation records to hand to
// customers, retrying what failed, renewing imported certificates, and
// deleting it. Kept fresh while the job moves.
import {
  MOVING,
  api,
  badge,
  copyButton,
  download,
  h,
  keepFresh,
  notice,
  signedIn,
  when,
} from "./console.js";

const jobId = decodeURIComponent(location.pathname.split("/").pop());
const body = document.getElementById("job-body");
const actions = document.getElementById("job-actions");
const dialog = document.getElementById("confirm-delete");
let job = null;
let seen = "";
let deleting = false;

/** Each distinct record once, with the item that needs it: a wildcard and
 * its apex share one. */
function records() {
  const found = new Map();
  for (const item of job.items) {
    for (const record of item.validationRecords) {
      const key = `${record.name} ${record.type} ${record.value}`;
      if (!found.has(key)) found.set(key, { item, record });
    }
  }
  return [...found.values()];
}

const quoted = (value) => `"${String(value ?? "").replaceAll('"', '""')}"`;
const absolute = (name) => (name.endsWith(".") ? name : `${name}.`);

function csv() {
  const lines = [["item", "names", "certificate_status", "record_name", "record_type", "record_value"]];
  for (const { item, record } of records()) {
    lines.push([item.key, item.names.join(" "), item.certificateStatus, record.name, record.type, record.value]);
  }
  return lines.map((line) => line.map(quoted).join(",")).join("\r\n") + "\r\n";
}

function zone() {
  const lines = [`; DNS validation records of job ${jobId}: ACM issues each certificate once it sees them`];
  let last = null;
  for (const { item, record } of records()) {
    if (item !== last) lines.push(`; ${item.key}: ${item.names.join(" ")}`);
    last = item;
    lines.push(`${absolute(record.name)}\t300\tIN\t${record.type}\t${absolute(record.value)}`);
  }
  return lines.join("\n") + "\n";
}

function stage(label, done, total, status) {
  const measure =
    status === "NONEED"
      ? h("span", { class: "hint" }, "not needed (auto_creation is false)")
      : [
          h("progress", { max: Math.max(total, 1), value: done, "aria-label": label }),
          h("span", { class: "number" }, `${done} / ${total}`),
        ];
  return h("div", { class: "stage", "data-stage": label }, h("span", {}, label), measure, badge(status));
}

function certificateCell(item) {
  if (!item.certificateArn) return h("td", { class: "hint" }, "not yet");
  return h(
    "td",
    {},
    badge(item.certificateStatus),
    h("div", { class: "arn" }, h("code", {}, item.certificateArn), copyButton(item.certificateArn)),
  );
}

function recordsCell(item) {
  if (!item.validationRecords.length) return h("td", { class: "hint" }, item.certificateArn ? "none" : "—");
  return h(
    "td",
    {},
    item.validationRecords.map((record) =>
      h(
        "dl",
        { class: "record" },
        h("dt", {}, "name"),
        h("dd", {}, h("code", {}, record.name), copyButton(record.name)),
        h("dt", {}, "type"),
        h("dd", {}, h("code", {}, record.type)),
        h("dt", {}, "value"),
        h("dd", {}, h("code", {}, record.value), copyButton(record.value)),
      ),
    ),
  );
}

function distributionCell(item) {
  const template = item.sourceDistributionId
    ? h(
        "div",
        { class: "hint" },
        `cloned from template ${item.sourceDistributionId}`,
        item.configVersion ? ` version ${item.configVersion}` : " (live configuration)",
      )
    : null;
  if (!item.distributionId) return h("td", {}, h("span", { class: "hint" }, "not yet"), template);
  return h(
    "td",
    {},
    badge(item.distributionStatus),
    h("div", {}, h("code", {}, item.distributionId)),
    item.distributionDomainName
      ? h("div", {}, h("code", {}, item.distributionDomainName), copyButton(item.distributionDomainName))
      : null,
    template,
  );
}

function notesCell(item) {
  const renewable = job.jobType === "import" && item.certificateArn && job.status !== "DESTROYING";
  return h(
    "td",
    {},
    renewable
      ? h("button", { type: "button", class: "renew", "data-renew": item.key }, "Renew certificate…")
      : null,
    item.error ? h("p", { class: "error item-error" }, item.error) : null,
    item.checkError ? h("p", { class: "error" }, `checking with AWS failed: ${item.checkError}`) : null,
    item.warnings.length ? h("ul", { class: "warnings" }, item.warnings.map((w) => h("li", {}, w))) : null,
  );
}

function render() {
  document.title = `Job ${jobId} · SSL for SaaS`;
  document.getElementById("job-status").replaceChildren(badge(job.status));
  document.getElementById("job-facts").textContent =
    `${job.jobType || "unknown type"} · created ${when(job.creationDate)} · phase ${job.phase ?? "unknown"}` +
    ` · updated ${when(new Date().toISOString())}`;
  document.getElementById("stages").replaceChildren(
    stage("Certificates created", job.certList.length, job.cert_total_number, job.certCreateStageStatus),
    stage("Certificates validated", job.cert_completed_number, job.cert_total_number, job.certValidationStageStatus),
    stage(
      "Distributions created",
      job.cloudfront_distribution_created_number,
      job.cloudfront_distribution_total_number,
      job.distStageStatus,
    ),
  );
  const prompt = document.getElementById("prompt");
  prompt.textContent = job.promptInfo;
  prompt.hidden = !job.promptInfo;
  document.querySelector("#items tbody").replaceChildren(
    ...job.items.map((item) =>
      h(
        "tr",
        { "data-item": item.key, class: item.error ? "failed" : null },
        h("td", {}, h("strong", {}, item.key), h("ul", { class: "names" }, item.names.map((n) => h("li", {}, n)))),
        certificateCell(item),
        recordsCell(item),
        distributionCell(item),
        notesCell(item),
      ),
    ),
  );
  const hasRecords = job.items.some((item) => item.validationRecords.length);
  document.getElementById("download-csv").disabled = !hasRecords;
  document.getElementById("download-zone").disabled = !hasRecords;
  document.getElementById("delete-job").disabled = job.status === "DESTROYING";
  document.getElementById("retry-job").hidden = job.status !== "FAILED";
  body.hidden = false;
  actions.hidden = false;
}

function gone() {
  body.hidden = true;
  actions.hidden = true;
  document.getElementById("job-status").replaceChildren(badge(deleting ? "DELETED" : "UNKNOWN"));
  document.getElementById("job-facts").textContent = "";
  const note = document.getElementById("gone");
  note.replaceChildren(
    deleting
      ? "This job has been deleted: its certificates, distributions, stack and records are gone. "
      : "No job has this id: it never existed, or it has been deleted. ",
    h("a", { href: "/console/" }, "All jobs"),
  );
  note.hidden = false;
}

/** What deleting the job destroys, as the confirmation lists it. */
function doomed() {
  const certificates = job.items.filter((item) => item.certificateArn);
  const distributions = job.items.filter((item) => item.distributionId);
  return [
    ...certificates.map((item) =>
      h("li", {}, `certificate ${item.certificateArn} (${item.names.join(", ")})`),
    ),
    ...distributions.map((item) =>
      h(
        "li",
        {},
        `distribution ${item.distributionId} ${item.distributionDomainName || ""} (disabled first, then deleted)`,
      ),
    ),
    certificates.length || distributions.length
      ? null
      : h("li", {}, "nothing made in AWS yet (anything under way is destroyed as soon as it is made)"),
    h("li", {}, `the job's Pulumi stack ${jobId} and everything kept of it`),
    h("li", {}, "the job's record: it disappears from the job list"),
  ];
}

if (signedIn()) {
  document.getElementById("job-id").textContent = jobId;
  const refresh = keepFresh(async () => {
    try {
      job = await api("/ssl_for_saas/get_ssl_job", { params: { jobId } });
    } catch (failure) {
      if (failure.status !== 404) throw failure;
      gone();
      return false;
    }
    const now = JSON.stringify(job);
    if (now !== seen) {
      seen = now;
      render();
    }
    return MOVING.has(job.status);
  });
  document.getElementById("download-csv").addEventListener("click", () =>
    download(`${jobId}-dns-validation.csv`, "text/csv", csv()),
  );
  document.getElementById("download-zone").addEventListener("click", () =>
    download(`${jobId}-dns-validation.zone`, "text/plain", zone()),
  );
  document.getElementById("delete-job").addEventListener("click", () => {
    document.getElementById("doomed").replaceChildren(...doomed().filter(Boolean));
    dialog.showModal();
  });
  document.getElementById("retry-job").addEventListener("click", async () => {
    try {
      const answer = await api(`/ssl_for_saas/jobs/${encodeURIComponent(jobId)}/retry`, { method: "POST" });
      notice(`Retrying ${answer.retried.join(", ") || "the job"}`, "info");
    } catch (failure) {
      notice(`Could not retry: ${failure.message}`);
      return;
    }
    refresh();
  });
  const renewing = document.getElementById("renew");
  const renewForm = document.getElementById("renew-form");
  document.getElementById("items").addEventListener("click", (event) => {
    const key = event.target.closest("[data-renew]")?.dataset.renew;
    if (!key) return;
    renewForm.reset();
    renewForm.dataset.key = key;
    document.getElementById("renew-item").textContent = key;
    document.getElementById("renew-errors").replaceChildren();
    renewing.showModal();
  });
  renewForm.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "renew") return;
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(renewForm));
    const key = renewForm.dataset.key;
    const path = `/ssl_for_saas/jobs/${encodeURIComponent(jobId)}/items/${encodeURIComponent(key)}/certificate`;
    try {
      await api(path, { method: "PUT", body: JSON.stringify(fields) });
    } catch (failure) {
      const errors = failure.body.errors || [{ location: "", message: failure.message }];
      document.getElementById("renew-errors").replaceChildren(
        ...errors.map((e) => h("li", {}, e.location ? `${e.location}: ${e.message}` : e.message)),
      );
      return;
    } finally {
      renewForm.elements.PrivateKeyPem.value = "";
    }
    renewing.close();
    notice(`Renewing the certificate of ${key}`, "info");
    refresh();
  });
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    deleting = true;
    try {
      await api(`/ssl_for_saas/jobs/${encodeURIComponent(jobId)}`, { method: "DELETE" });
    } catch (failure) {
      deleting = false;
      notice(`Could not delete the job: ${failure.message}`);
      return;
    }
    refresh();
  });
}
