/**
 * The Worker's own HTML pages (sign-in, sign-out, errors): plain HTML and one inline style sheet,
 * no script and nothing from a CDN, so they work without JavaScript and under a strict CSP.
 */
import { htmlSecurityHeaders } from "../lib/http-security";
import { ALNUM, randomString } from "../lib/crypto";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

const STYLE = `
:root { color-scheme: light dark; --accent: #0b6bcb; --bg: #f4f6f8; --card: #fff; --text: #1c2530; --muted: #5b6672; --error: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --bg: #14181d; --card: #1e242b; --text: #e8ecf0; --muted: #a4aeb8; --accent: #6fb2ff; --error: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: min(26rem, calc(100vw - 2rem)); background: var(--card); border-radius: 12px; padding: 2rem;
  box-shadow: 0 2px 12px rgb(0 0 0 / 12%); }
h1 { margin: 0 0 .25rem; font-size: 1.5rem; }
p { margin: .5rem 0 1rem; color: var(--muted); }
label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; padding: .6rem .75rem; font: inherit; color: inherit; background: transparent;
  border: 1px solid var(--muted); border-radius: 8px; }
button { margin-top: 1.5rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent);
  border: 0; border-radius: 8px; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.error { color: var(--error); font-weight: 600; }
h2 { margin: 1.5rem 0 .5rem; font-size: 1.1rem; }
ul.list { list-style: none; margin: 0; padding: 0; }
ul.list li { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .5rem 0; border-bottom: 1px solid rgb(127 127 127 / 25%); }
form.inline button { margin: 0; width: auto; padding: .35rem .75rem; font-size: .9rem; }
small { color: var(--muted); }
a { color: var(--accent); }
.brand { font-weight: 700; letter-spacing: .02em; color: var(--accent); margin-bottom: 1rem; }
`;

export interface Page {
  title: string;
  /** Inner HTML of <main>; every interpolated value must go through esc(). */
  body: string;
  status?: number;
  headers?: Record<string, string | string[]>;
}

export function renderPage(page: Page): Response {
  const nonce = randomString(24, ALNUM);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(page.title)} – EdgeTalk</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
<div class="brand" aria-hidden="true">EdgeTalk</div>
${page.body}
</main>
</body>
</html>
`;
  const headers = new Headers(htmlSecurityHeaders(nonce));
  for (const [name, value] of Object.entries(page.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Response(html, { status: page.status ?? 200, headers });
}

/** An error page for requests that cannot be sent back to a client (unknown client, bad redirect URI). */
export function errorPage(status: number, title: string, message: string): Response {
  return renderPage({ title, status, body: `<h1>${esc(title)}</h1>\n<p role="alert" class="error">${esc(message)}</p>` });
}

export function hiddenFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join("\n");
}
