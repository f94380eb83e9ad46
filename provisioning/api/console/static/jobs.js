// Every job, newest first, kept fresh while any of them moves.
import { MOVING, api, badge, h, keepFresh, signedIn, when } from "./console.js";

const PAGE = 500;
const table = document.querySelector("#jobs tbody");
const statusFilter = document.getElementById("status-filter");
const search = document.getElementById("search");
const count = document.getElementById("count");
const empty = document.getElementById("empty");
const updated = document.getElementById("updated");
let jobs = [];

async function everyJob() {
  const all = [];
  let next = null;
  do {
    const page = await api("/ssl_for_saas/list_ssl_jobs", { params: { limit: PAGE, next } });
    all.push(...page.jobs);
    next = page.next;
  } while (next);
  return all;
}

/** Every name a job serves: requested ones are in its input, imported
 * ones only in its items (they come from the certificates). */
function namesOf(job) {
  const names = new Set();
  for (const item of job.job_input.cnameList || []) {
    names.add(item.domainName);
    for (const name of item.sanList || []) names.add(name);
  }
  for (const item of job.items) for (const name of item.names) names.add(name);
  return [...names];
}

function counted(done, total) {
  return total ? `${done} / ${total}` : "—";
}

function row(job) {
  const names = namesOf(job);
  const shown = names.slice(0, 3).join(", ") + (names.length > 3 ? ` +${names.length - 3}` : "");
  return h(
    "tr",
    { "data-job-id": job.jobId },
    h("td", {}, h("a", { href: `/console/jobs/${encodeURIComponent(job.jobId)}` }, h("code", {}, job.jobId))),
    h("td", {}, badge(job.status)),
    h("td", {}, job.jobType || "—"),
    h("td", {}, when(job.creationDate)),
    h("td", { class: "number" }, counted(job.cert_completed_number, job.cert_total_number)),
    h(
      "td",
      { class: "number" },
      counted(job.cloudfront_distribution_created_number, job.cloudfront_distribution_total_number),
    ),
    h("td", { title: names.join("\n") }, shown),
  );
}

function render() {
  const wanted = statusFilter.value;
  const part = search.value.trim().toLowerCase();
  const shown = jobs.filter(
    (job) =>
      (!wanted || job.status === wanted) &&
      (!part || namesOf(job).some((name) => name.includes(part))),
  );
  table.replaceChildren(...shown.map(row));
  count.textContent = `${shown.length} of ${jobs.length} job${jobs.length === 1 ? "" : "s"}`;
  empty.hidden = shown.length > 0;
  empty.textContent = jobs.length ? "No job matches." : "No jobs yet.";
  const query = new URLSearchParams();
  if (wanted) query.set("status", wanted);
  if (part) query.set("q", part);
  history.replaceState(null, "", query.size ? `?${query}` : location.pathname);
}

if (signedIn()) {
  const asked = new URLSearchParams(location.search);
  statusFilter.value = asked.get("status") || "";
  search.value = asked.get("q") || "";
  statusFilter.addEventListener("change", render);
  search.addEventListener("input", render);
  keepFresh(
    async () => {
      jobs = await everyJob();
      render();
      updated.textContent = `updated ${when(new Date().toISOString())}`;
      return jobs.some((job) => MOVING.has(job.status));
    },
    { fast: 2000, slow: 30000 },
  );
}
