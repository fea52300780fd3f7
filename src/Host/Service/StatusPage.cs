namespace Distillery.Host.Service;

/// <summary>The status page: a table of every item, and for each running item its progress, image grid and loss curve.</summary>
public static class StatusPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Distillery queue</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
  table { border-collapse: collapse; margin-bottom: 1.5rem; }
  th, td { padding: .3rem .7rem; border-bottom: 1px solid #ddd; text-align: left; font-size: .9rem; }
  .state-running { color: #0a58ca; font-weight: 600; } .state-failed { color: #b02a37; } .state-done { color: #146c43; }
  progress { width: 10rem; }
  .run { display: flex; gap: 1.5rem; align-items: flex-start; margin-bottom: 2rem; }
  .run img { border: 1px solid #ccc; max-width: 420px; }
  svg { border: 1px solid #ccc; background: #fafafa; }
  .reason { white-space: pre-wrap; font-family: monospace; font-size: .8rem; }
</style>
</head>
<body>
<h1>Distillery queue</h1>
<table id="items"><thead><tr><th>item</th><th>state</th><th>progress</th><th>loss</th><th>figures</th><th>reason</th></tr></thead><tbody></tbody></table>
<div id="running"></div>
<script>
const fmt = v => v === null || v === undefined ? "" : (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toPrecision(4));
const figures = m => Object.entries(m || {}).filter(([k]) => !k.endsWith("Count")).map(([k, v]) => `${k} ${k.endsWith("Accuracy") ? (100 * v).toFixed(2) + "%" : fmt(v)}`).join(", ");
function curve(points) {
  const w = 420, h = 180, pad = 8;
  if (points.length < 2) return `<svg width="${w}" height="${h}" class="loss-curve"></svg>`;
  const xs = points.map(p => p[0]), ys = points.map(p => Math.log10(p[1]));
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = x => pad + (w - 2 * pad) * (x - x0) / Math.max(x1 - x0, 1e-12);
  const py = y => h - pad - (h - 2 * pad) * (y - y0) / Math.max(y1 - y0, 1e-12);
  const path = points.map((p, i) => `${i ? "L" : "M"}${px(p[0]).toFixed(1)},${py(Math.log10(p[1])).toFixed(1)}`).join(" ");
  return `<svg width="${w}" height="${h}" class="loss-curve" data-points="${points.length}"><path d="${path}" fill="none" stroke="#0a58ca" stroke-width="1.5"/>` +
         `<text x="${w - pad}" y="${pad + 10}" text-anchor="end" font-size="11">loss (log scale), steps ${x0}–${x1}</text></svg>`;
}
async function refresh() {
  const items = await (await fetch("/api/runs")).json();
  document.querySelector("#items tbody").innerHTML = items.map(i => `<tr data-id="${i.id}" data-state="${i.state}">
    <td>${i.id}</td><td class="state-${i.state}">${i.state}</td>
    <td>${i.totalSteps ? `<progress max="${i.totalSteps}" value="${i.step ?? 0}"></progress> ${i.phase} ${i.step ?? 0}/${i.totalSteps}` : ""}</td>
    <td>${fmt(i.loss)}</td><td>${figures(i.metrics)}</td><td class="reason">${i.reason ?? ""}</td></tr>`).join("");
  const running = items.filter(i => i.state === "running");
  const details = await Promise.all(running.map(async i => (await fetch(`/api/runs/${encodeURIComponent(i.id)}`)).json()));
  document.getElementById("running").innerHTML = details.map(d => `<section class="run" id="run-${d.id}">
    <div><h2>${d.id}</h2><p>${d.phase ?? ""} step ${d.step ?? 0} of ${d.totalSteps ?? "?"}, loss ${fmt(d.loss)}</p><p>${figures(d.metrics)}</p>${curve(d.lossCurve)}</div>
    ${d.hasImageGrid ? `<img class="grid" alt="image grid of ${d.id}" src="/api/runs/${encodeURIComponent(d.id)}/grid.png?t=${Date.now()}" onload="this.dataset.loaded='true'">` : ""}
  </section>`).join("");
  document.body.dataset.refreshed = String(Date.now());
}
refresh(); setInterval(refresh, 2000);
</script>
</body>
</html>
""";
}
