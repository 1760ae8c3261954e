/** A dependency-free API browser for /openapi.json (the Worker serves it; no CDN needed). */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EdgeTalk API</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { background: #0b3d91; color: #fff; padding: 18px 28px; }
  header h1 { margin: 0; font-size: 22px; }
  main { max-width: 1100px; margin: 0 auto; padding: 18px 28px 60px; }
  input { width: 100%; padding: 8px 10px; font-size: 15px; border: 1px solid #b8c0cc; border-radius: 6px; }
  h2 { margin: 28px 0 8px; font-size: 18px; border-bottom: 1px solid #d5dae1; padding-bottom: 4px; }
  details { background: #fff; border: 1px solid #d5dae1; border-radius: 6px; margin: 6px 0; }
  summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px; align-items: baseline; }
  .m { font: 600 12px monospace; text-transform: uppercase; padding: 2px 8px; border-radius: 4px; color: #fff; min-width: 52px; text-align: center; }
  .get { background: #2f7d32; } .post { background: #1565c0; } .put { background: #8e5a00; } .patch { background: #6a1b9a; } .delete { background: #b71c1c; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
  pre { background: #f1f3f6; padding: 10px; border-radius: 6px; overflow-x: auto; margin: 6px 12px 12px; }
  .body { padding: 0 12px 8px; }
</style>
</head>
<body>
<header><h1>EdgeTalk API</h1><div id="sub">Loading /openapi.json …</div></header>
<main>
<input id="filter" placeholder="Filter by path, method or summary" autofocus>
<div id="ops"></div>
</main>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;"}[c]));
fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("sub").textContent = doc.info.title + " " + doc.info.version + " — OpenAPI " + doc.openapi;
  const groups = {};
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      (groups[tag] = groups[tag] || []).push({ path, method, op });
    }
  }
  const render = (q) => {
    const out = [];
    for (const tag of Object.keys(groups).sort()) {
      const ops = groups[tag].filter((o) => !q || (o.method + " " + o.path + " " + (o.op.summary || "")).toLowerCase().includes(q));
      if (!ops.length) continue;
      out.push("<h2>" + esc(tag) + "</h2>");
      for (const { path, method, op } of ops) {
        const details = JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2);
        out.push('<details><summary><span class="m ' + method + '">' + method + "</span><code>" + esc(path) + "</code><span>" + esc(op.summary || "") + '</span></summary><div class="body"><pre>' + esc(details) + "</pre></div></details>");
      }
    }
    document.getElementById("ops").innerHTML = out.join("");
  };
  render("");
  document.getElementById("filter").addEventListener("input", (e) => render(e.target.value.toLowerCase()));
});
</script>
</body>
</html>`;
