namespace Distillery.Service;

/// <summary>
/// The status page: a table of every item, and for each running item its progress, image grid and loss curve.
/// Item ids, reasons and figures come from whoever can write the queue, so the script only ever puts them into the
/// page as text (<c>textContent</c>, attribute values via <c>setAttribute</c>), never as HTML; and the page is served
/// with a Content-Security-Policy that allows no inline script and no other origin (<see cref="StatusEndpoints"/>),
/// which is why the script and the style are separate files.
/// </summary>
public static class StatusPage
{
    /// <summary>The page's HTML: no dynamic content, no inline script or style.</summary>
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Distillery queue</title>
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head>
<body>
<h1>Distillery queue</h1>
<table id="items"><thead><tr><th>item</th><th>state</th><th>progress</th><th>loss</th><th>figures</th><th>reason</th></tr></thead><tbody></tbody></table>
<div id="running"></div>
</body>
</html>
""";

    /// <summary>The page's style sheet (served as /status.css).</summary>
    public const string Style = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #ddd; text-align: left; font-size: .9rem; }
.state-running { color: #0a58ca; font-weight: 600; } .state-failed { color: #b02a37; } .state-done { color: #146c43; }
progress { width: 10rem; }
.run { display: flex; gap: 1.5rem; align-items: flex-start; margin-bottom: 2rem; }
.run img { border: 1px solid #ccc; max-width: 420px; }
svg { border: 1px solid #ccc; background: #fafafa; }
.reason { white-space: pre-wrap; font-family: monospace; font-size: .8rem; }
.problem { color: #b02a37; }
""";

    /// <summary>The page's script (served as /status.js): fetches /api/runs every 2 s and rebuilds the page with DOM calls only.</summary>
    public const string Script = """
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const fmt = v => typeof v !== "number" ? "" : (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toPrecision(4));
const figures = m => Object.entries(m || {}).filter(([k, v]) => !k.endsWith("Count") && typeof v === "number")
  .map(([k, v]) => `${k} ${k.endsWith("Accuracy") ? (100 * v).toFixed(2) + "%" : fmt(v)}`).join(", ");

// An element with attributes (set in order, as values) and children (strings become text nodes).
function el(tag, attributes, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function curve(points) {
  const w = 420, h = 180, pad = 8;
  const svg = el("svg:svg", { width: w, height: h, class: "loss-curve", "data-points": points.length });
  const valid = points.filter(p => typeof p[0] === "number" && typeof p[1] === "number" && p[1] > 0);
  if (valid.length < 2) return svg;
  const xs = valid.map(p => p[0]), ys = valid.map(p => Math.log10(p[1]));
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = x => pad + (w - 2 * pad) * (x - x0) / Math.max(x1 - x0, 1e-12);
  const py = y => h - pad - (h - 2 * pad) * (y - y0) / Math.max(y1 - y0, 1e-12);
  const d = valid.map((p, i) => `${i ? "L" : "M"}${px(p[0]).toFixed(1)},${py(Math.log10(p[1])).toFixed(1)}`).join(" ");
  svg.append(el("svg:path", { d, fill: "none", stroke: "#0a58ca", "stroke-width": 1.5 }),
             el("svg:text", { x: w - pad, y: pad + 10, "text-anchor": "end", "font-size": 11 }, `loss (log scale), steps ${x0}–${x1}`));
  return svg;
}

function row(i) {
  const progress = i.totalSteps
    ? [el("progress", { max: i.totalSteps, value: i.step ?? 0 }), ` ${i.phase ?? ""} ${i.step ?? 0}/${i.totalSteps}`] : [];
  return el("tr", { "data-id": i.id, "data-state": i.state },
    el("td", {}, i.id), el("td", { class: `state-${i.state}` }, i.state), el("td", {}, ...progress),
    el("td", {}, fmt(i.loss)), el("td", {}, figures(i.metrics)),
    el("td", { class: "reason" }, i.reason ?? "", i.problem ? el("div", { class: "problem" }, i.problem) : null));
}

function running(d) {
  const grid = d.hasImageGrid
    ? el("img", { class: "grid", alt: `image grid of ${d.id}`, src: `/api/runs/${encodeURIComponent(d.id)}/grid.png?t=${Date.now()}` }) : null;
  if (grid) grid.addEventListener("load", () => { grid.dataset.loaded = "true"; });
  return el("section", { class: "run", "data-run": d.id },
    el("div", {}, el("h2", {}, d.id), el("p", {}, `${d.phase ?? ""} step ${d.step ?? 0} of ${d.totalSteps ?? "?"}, loss ${fmt(d.loss)}`),
       el("p", {}, figures(d.metrics)), curve(d.lossCurve || [])),
    grid);
}

async function refresh() {
  const items = await (await fetch("/api/runs")).json();
  document.querySelector("#items tbody").replaceChildren(...items.map(row));
  const details = await Promise.all(items.filter(i => i.state === "running")
    .map(async i => (await fetch(`/api/runs/${encodeURIComponent(i.id)}`)).json()));
  document.getElementById("running").replaceChildren(...details.map(running));
  document.body.dataset.refreshed = String(Date.now());
}
refresh(); setInterval(refresh, 2000);
""";
}
