/** A signaling client for tests: connects to /signaling through the Worker and reads frames in order. */
import { exports } from "cloudflare:workers";
import { BASE } from "./http";

export const PROTOCOL = "opentalk-signaling-json-v1.0";
/** Guards against a hang only; tests never assert on timing. */
const WAIT_LIMIT_MS = 15_000;

export interface Frame {
  namespace: string;
  timestamp: string;
  payload: { message: string; [key: string]: any };
}

export function upgradeRequest(protocols: string | null): Request {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (protocols !== null) headers["Sec-WebSocket-Protocol"] = protocols;
  return new Request(`${BASE}/signaling`, { headers });
}

export class SignalingClient {
  private readonly inbox: Frame[] = [];
  private wake: (() => void) | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      this.inbox.push(JSON.parse(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer)) as Frame);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
  }

  /** Connects with a ticket the way the stock client does (ticket first, then the protocol). */
  static async connect(ticket: string): Promise<SignalingClient> {
    const res = await exports.default.fetch(upgradeRequest(`ticket#${ticket}, ${PROTOCOL}`));
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
    if (res.headers.get("sec-websocket-protocol") !== PROTOCOL) throw new Error("server did not pick the protocol");
    res.webSocket.accept();
    return new SignalingClient(res.webSocket);
  }

  send(namespace: string, payload: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ namespace, payload }));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The next frame matching `namespace` and `message` (earlier non-matching frames stay queued). */
  async next(namespace: string, message: string, where: (f: Frame) => boolean = () => true): Promise<Frame> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const index = this.inbox.findIndex((f) => f.namespace === namespace && f.payload.message === message && where(f));
      if (index >= 0) return this.inbox.splice(index, 1)[0] as Frame;
      if (Date.now() > deadline) {
        throw new Error(`no ${namespace}/${message}; queued: ${JSON.stringify(this.inbox.map((f) => `${f.namespace}/${f.payload.message}`))}`);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
      this.wake = null;
    }
  }

  /** The next frame of a namespace whatever its payload (for echo, whose payload has no `message`). */
  async nextIn(namespace: string): Promise<Frame> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const index = this.inbox.findIndex((f) => f.namespace === namespace);
      if (index >= 0) return this.inbox.splice(index, 1)[0] as Frame;
      if (Date.now() > deadline) throw new Error(`no ${namespace} frame`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
      this.wake = null;
    }
  }

  /**
   * Sends a frame, then an echo ping, and answers the error frames that arrived before the echo
   * came back: the server handles one socket's frames in order, so a frame it ignores leaves none.
   */
  async errorsFor(namespace: string, payload: Record<string, unknown>): Promise<Frame[]> {
    const earlier = new Set(this.inbox);
    this.send(namespace, payload);
    this.send("echo", { action: "ping" });
    await this.nextIn("echo");
    return this.inbox.filter((f) => !earlier.has(f) && f.payload?.message === "error");
  }

  /** Frames received and not yet consumed. */
  pending(): Frame[] {
    return [...this.inbox];
  }

  close(): void {
    this.ws.close(1000, "bye");
  }
}
