/**
 * The load generator's HTTP client: an undici Pool per target origin (keep-alive, one request in
 * flight per connection), far cheaper per request than fetch(), so the generator core is not what
 * limits the baselines.
 *
 * Latency recording: while a measurement window is open, `record()` has a sink (an array) and every
 * request completed through `request()` pushes its latency (ms) into it. Measurements run one at a
 * time in this single-threaded process, so one module-level sink is enough.
 */
import { Pool } from "undici";

let sink = null;
let staleRetries = 0;

/** How many requests were retried because a kept-alive connection had been closed under them. */
export function retriesSoFar() {
  return staleRetries;
}

/** A connection the server closed while idle: the request never reached it, so it is safe to resend. */
function isStaleConnection(err) {
  return err?.code === "UND_ERR_SOCKET" || err?.code === "ECONNRESET";
}

/** Opens (an array) or closes (null) the latency sink of the current window. */
export function recordInto(array) {
  sink = array;
}

export class HttpError extends Error {}

export class Http {
  /** @param {string} origin e.g. http://127.0.0.1:8787 */
  constructor(origin, connections = 64) {
    this.origin = origin;
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 });
  }

  /**
   * One request; resolves with status, headers and body text. A status outside `expect` throws
   * (counted as an error by the measurement loop). Bodies are always read in full: a real client
   * has to, and it keeps the connection reusable.
   */
  async request(method, path, { headers = {}, body, expect = [200] } = {}) {
    let start = performance.now();
    let res;
    try {
      res = await this.pool.request({ method, path, headers, body });
    } catch (err) {
      // As browsers do: one retry when a reused keep-alive connection turns out to be closed.
      // The failed attempt is not timed.
      if (!isStaleConnection(err)) throw err;
      staleRetries += 1;
      start = performance.now();
      res = await this.pool.request({ method, path, headers, body });
    }
    const text = await res.body.text();
    const ms = performance.now() - start;
    if (!expect.includes(res.statusCode)) throw new HttpError(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 200)}`);
    sink?.push(ms);
    return { status: res.statusCode, headers: res.headers, text, ms };
  }

  async json(method, path, options) {
    const res = await this.request(method, path, options);
    return { ...res, data: JSON.parse(res.text) };
  }

  close() {
    return this.pool.close();
  }
}
