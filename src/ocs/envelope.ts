/** The Nextcloud OCS v2 envelope, in JSON or XML, chosen by `format` or `Accept`. */

export type OcsFormat = "json" | "xml";

/** `queryFormat`: the query's `format` parameter, which wins over the body's. */
export function ocsFormat(queryFormat: string | undefined, accept: string | null, bodyFormat?: unknown): OcsFormat {
  const format = queryFormat ?? (typeof bodyFormat === "string" ? bodyFormat : null);
  if (format === "json" || format === "xml") return format;
  return accept?.includes("application/json") ? "json" : "xml";
}

export interface OcsMeta {
  status: "ok" | "failure";
  statuscode: number;
  message: string;
}

export function ocsMeta(httpStatus: number, statuscode = httpStatus, message?: string): OcsMeta {
  const ok = httpStatus >= 200 && httpStatus < 300;
  return { status: ok ? "ok" : "failure", statuscode, message: message ?? (ok ? "OK" : "") };
}

export function renderOcs(
  format: OcsFormat,
  httpStatus: number,
  data: unknown,
  meta: OcsMeta = ocsMeta(httpStatus),
  headers: Record<string, string> = {},
): Response {
  const envelope = { ocs: { meta, data } };
  if (format === "json") {
    return new Response(JSON.stringify(envelope), {
      status: httpStatus,
      headers: { "Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff", ...headers },
    });
  }
  return new Response(`<?xml version="1.0"?>\n${toXml("ocs", envelope.ocs)}\n`, {
    status: httpStatus,
    headers: { "Content-Type": "application/xml; charset=utf-8", "X-Content-Type-Options": "nosniff", ...headers },
  });
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Characters XML 1.0 cannot carry at all, escaped or not (controls, lone surrogates, U+FFFE/U+FFFF). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function escapeXml(text: string): string {
  return text.replace(NOT_XML, "\uFFFD").replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch] ?? ch);
}

/** Element names must be valid XML names; numeric keys and odd characters fall back to `element`. */
function tagName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) ? key : "element";
}

export function toXml(tag: string, value: unknown): string {
  if (value === null || value === undefined) return `<${tag}/>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${tag}/>`;
    return `<${tag}>${value.map((item) => toXml("element", item)).join("")}</${tag}>`;
  }
  if (typeof value === "object") {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(tagName(k), v))
      .join("");
    return inner ? `<${tag}>${inner}</${tag}>` : `<${tag}/>`;
  }
  if (typeof value === "boolean") return value ? `<${tag}>1</${tag}>` : `<${tag}/>`;
  return `<${tag}>${escapeXml(String(value))}</${tag}>`;
}
