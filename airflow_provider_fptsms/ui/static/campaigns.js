// The campaign view: reads the JSON API next to this page and draws it. Every value goes through textContent
// (never innerHTML): campaign names and reasons are data.
"use strict";

const COLORS = { delivered: "#2f9e44", failed: "#e03131", pending: "#f08c00", bar: "#0b6bcb" };
const charts = {};
const number = (value) => (value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"));
const percent = (value) => (value === null || value === undefined ? "–" : (100 * value).toFixed(1) + " %");

async function getJson(url) {
  const reply = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!reply.ok) {
    const why = reply.status === 401 ? "log in to Airflow first" : reply.statusText;
    throw new Error(`${url}: HTTP ${reply.status} (${why})`);
  }
  return reply.json();
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function runCell(row, item) {
  const td = row.insertCell();
  if (!item.run_url) return (td.textContent = "–");
  const link = document.createElement("a");
  link.href = item.run_url;
  link.target = "_top"; // out of the UI's frame, into the run's page
  link.textContent = `${item.dag_id} / ${item.run_id}`;
  td.appendChild(link);
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

function drawFunnel(funnel) {
  draw("funnel", {
    type: "bar",
    data: {
      labels: funnel.map((stage) => stage.stage),
      datasets: [{ label: "phones", data: funnel.map((stage) => stage.phones), backgroundColor: COLORS.bar }],
    },
    options: { indexAxis: "y", animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } },
  });
}

function drawTelcos(report) {
  const byTelco = (report && report.status_by_telco) || {};
  const telcos = Object.keys(byTelco);
  document.getElementById("no-report").hidden = telcos.length > 0;
  draw("telcos", {
    type: "bar",
    data: {
      labels: telcos,
      datasets: ["delivered", "failed", "pending"].map((status) => ({
        label: status,
        data: telcos.map((telco) => byTelco[telco][status] || 0),
        backgroundColor: COLORS[status],
      })),
    },
    options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true } } },
  });
}

function figures(detail) {
  const box = document.getElementById("detail-figures");
  box.replaceChildren();
  const report = detail.report || {};
  const shown = [
    ["state", detail.state],
    ["delivered", number(report.delivered)],
    ["failed", number(report.failed)],
    ["pending", number(report.pending)],
    ["suppressed", number(detail.left_out.suppressed)],
    ["capped", number(detail.left_out.capped)],
    ["invalid", number(detail.left_out.invalid)],
    ["cost (VND)", detail.cost && detail.cost.vnd ? number(detail.cost.vnd) : "not priced"],
  ];
  if (detail.rejected_reason) shown.push(["rejected", detail.rejected_reason]);
  for (const [name, value] of shown) {
    const figure = document.createElement("div");
    figure.className = "figure";
    const big = document.createElement("b");
    big.textContent = value;
    figure.append(big, name);
    box.appendChild(figure);
  }
}

function tableRows(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  for (const values of rows) {
    const row = body.insertRow();
    values.forEach(([text, className]) => cell(row, text, className));
  }
}

async function showCampaign(code) {
  const detail = await getJson(`api/campaign?code=${encodeURIComponent(code)}`);
  document.querySelectorAll("tr.campaign").forEach((row) => row.classList.toggle("selected", row.dataset.code === code));
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-title").textContent = `${detail.name || detail.campaign_code} — ${detail.campaign_code}`;
  figures(detail);
  drawFunnel(detail.funnel);
  drawTelcos(detail.report);
  const cost = (detail.cost && detail.cost.by_telco) || {};
  tableRows("cost", Object.entries(cost).map(([telco, c]) => [[telco], [number(c.messages), "num"], [number(c.vnd), "num"]]));
  tableRows("steps", detail.steps.map((s) => [[s.step], [s.task_id || "–"], [new Date(s.at * 1000).toLocaleString()]]));
  history.replaceState(null, "", `?code=${encodeURIComponent(code)}`);
}

async function main() {
  const [{ campaigns }, { sends }] = await Promise.all([getJson("api/campaigns"), getJson("api/sends")]);
  const body = document.querySelector("#campaigns tbody");
  document.getElementById("no-campaigns").hidden = campaigns.length > 0;
  for (const item of campaigns) {
    const row = body.insertRow();
    row.className = "campaign";
    row.dataset.code = item.campaign_code;
    cell(row, item.name || "–");
    cell(row, item.campaign_code);
    const badge = document.createElement("span");
    badge.className = `state ${item.state}`;
    badge.textContent = item.state;
    row.insertCell().appendChild(badge);
    cell(row, item.schedule_time || "–");
    runCell(row, item);
    row.addEventListener("click", () => shown(item.campaign_code).catch(fail));
  }
  const sendBody = document.querySelector("#sends tbody");
  document.getElementById("no-sends").hidden = sends.length > 0;
  for (const item of sends) {
    const row = sendBody.insertRow();
    runCell(row, item);
    cell(row, item.task_id);
    for (const name of ["total", "delivered", "failed", "pending", "missing"]) cell(row, number(item[name]), "num");
    cell(row, percent(item.delivery_rate), "num");
  }
  const wanted = new URLSearchParams(location.search).get("code");
  const first = campaigns.find((item) => item.campaign_code === wanted) || campaigns[0];
  if (first) await shown(first.campaign_code);
  document.body.dataset.ready = "true"; // for the e2e screenshot
}

// a campaign drawn: its code on the page (a click on its row, or the first one at load)
async function shown(code) {
  await showCampaign(code);
  document.body.dataset.shown = code;
}

function fail(error) {
  document.getElementById("error").textContent = String(error.message || error);
  document.body.dataset.ready = "error";
}

main().catch(fail);
