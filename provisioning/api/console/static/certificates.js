// ACM's certificates (cert_list), soonest to expire first, with days left.
import { api, badge, copyButton, h, notice, signedIn, when } from "./console.js";

const DAY = 24 * 60 * 60 * 1000;
const SOON = 30;
const table = document.querySelector("#certificates tbody");
const statusFilter = document.getElementById("cert-status");
const search = document.getElementById("cert-search");
const expiring = document.getElementById("cert-expiring");
const count = document.getElementById("count");
const empty = document.getElementById("empty");
let certificates = [];

function daysLeft(certificate) {
  if (!certificate.notAfter) return null;
  return Math.floor((new Date(certificate.notAfter).getTime() - Date.now()) / DAY);
}

function daysCell(days) {
  if (days === null) return h("td", { class: "hint" }, "—");
  const kind = days < 0 ? "bad" : days < SOON ? "warn" : null;
  return h("td", { class: ["number", kind].filter(Boolean).join(" ") }, days < 0 ? "expired" : days);
}

function row(certificate) {
  const others = certificate.subjectAlternativeNames.filter((n) => n !== certificate.domainName);
  return h(
    "tr",
    { "data-arn": certificate.arn },
    h("td", {}, certificate.domainName || "—"),
    h("td", {}, others.join(", ")),
    h("td", {}, badge(certificate.status)),
    h("td", {}, certificate.type || "—"),
    h("td", {}, certificate.keyAlgorithm || "—"),
    h("td", {}, when(certificate.notAfter)),
    daysCell(daysLeft(certificate)),
    h("td", {}, certificate.inUse === null ? "—" : certificate.inUse ? "yes" : "no"),
    h("td", { class: "arn" }, h("code", {}, certificate.arn), copyButton(certificate.arn)),
  );
}

function render() {
  const wanted = statusFilter.value;
  const part = search.value.trim().toLowerCase();
  const shown = certificates.filter((certificate) => {
    const days = daysLeft(certificate);
    const text = [certificate.arn, ...certificate.subjectAlternativeNames, certificate.domainName || ""];
    return (
      (!wanted || certificate.status === wanted) &&
      (!part || text.some((value) => value.toLowerCase().includes(part))) &&
      (!expiring.checked || (days !== null && days < SOON))
    );
  });
  table.replaceChildren(...shown.map(row));
  count.textContent = `${shown.length} of ${certificates.length}`;
  empty.hidden = shown.length > 0;
  empty.textContent = certificates.length ? "No certificate matches." : "No certificates.";
}

async function load() {
  try {
    certificates = await api("/ssl_for_saas/cert_list");
    notice("");
  } catch (failure) {
    if (failure.status !== 401) notice(`Could not load the certificates: ${failure.message}`);
    return;
  }
  // Soonest to expire first; those without an end date (not yet issued) last.
  const end = (c) => (c.notAfter ? new Date(c.notAfter).getTime() : Infinity);
  certificates.sort((a, b) => end(a) - end(b));
  const statuses = [...new Set(certificates.map((c) => c.status).filter(Boolean))].sort();
  const chosen = statusFilter.value;
  statusFilter.replaceChildren(h("option", { value: "" }, "any"), ...statuses.map((s) => h("option", {}, s)));
  statusFilter.value = statuses.includes(chosen) ? chosen : "";
  render();
}

if (signedIn()) {
  for (const control of [statusFilter, expiring]) control.addEventListener("change", render);
  search.addEventListener("input", render);
  document.getElementById("refresh").addEventListener("click", load);
  load();
}
