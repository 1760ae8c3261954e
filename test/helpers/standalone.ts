/**
 * A Talk client of the standalone signaling protocol for tests: fetches the signaling settings the
 * way the stock clients do, connects to the `server` they name (plus `spreed`) through the Worker,
 * and reads frames in order, each checked against the upstream API's message shapes.
 */
import { exports } from "cloudflare:workers";
import { z } from "zod";
import { BASE, type CookieJar, type Credentials, ocs } from "./http";

export const V3 = "/ocs/v2.php/apps/spreed/api/v3";
/** Guards against a hang only; tests never assert on timing. */
const WAIT_LIMIT_MS = 15_000;

/** Server messages as docs/standalone-signaling-api-v1.md defines them (strict where EdgeTalk sends them). */
const Sender = z.strictObject({ type: z.enum(["session", "user", "room", "call"]), sessionid: z.string(), userid: z.string().optional() });
export const ServerFrame = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("welcome"), welcome: z.strictObject({ features: z.array(z.string()), version: z.string() }) }),
  z.strictObject({
    id: z.string().optional(),
    type: z.literal("hello"),
    hello: z.strictObject({ sessionid: z.string(), resumeid: z.string(), userid: z.string(), version: z.string(), server: z.strictObject({ features: z.array(z.string()), version: z.string() }) }),
  }),
  z.strictObject({ id: z.string().optional(), type: z.literal("room"), room: z.strictObject({ roomid: z.string(), properties: z.record(z.string(), z.unknown()).optional() }) }),
  z.strictObject({ type: z.literal("message"), message: z.strictObject({ sender: Sender, data: z.unknown() }) }),
  z.strictObject({ type: z.literal("control"), control: z.strictObject({ sender: Sender, data: z.unknown() }) }),
  z.strictObject({ id: z.string().optional(), type: z.literal("bye"), bye: z.strictObject({}) }),
  z.strictObject({ id: z.string().optional(), type: z.literal("error"), error: z.strictObject({ code: z.string(), message: z.string(), details: z.unknown().optional() }) }),
  z.strictObject({ type: z.literal("event"), event: z.looseObject({ target: z.enum(["room", "roomlist", "participants"]), type: z.string() }) }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** A participant entry of a `participants` update, as Talk's backend notifier shapes it. */
export const ParticipantEntry = z.strictObject({
  inCall: z.number(),
  lastPing: z.number(),
  sessionId: z.string(),
  nextcloudSessionId: z.string(),
  participantType: z.number(),
  participantPermissions: z.number(),
  actorType: z.string(),
  actorId: z.string(),
  userId: z.string().optional(),
  displayName: z.string(),
});

export interface Settings {
  signalingMode: string;
  server: string;
  ticket: string;
  userId: string | null;
  helloAuthParams: { "1.0": { userid: string | null; ticket: string }; "2.0"?: { token: string } };
}

export async function signalingSettings(token: string, who: { auth?: Credentials; jar?: CookieJar }): Promise<Settings> {
  const res = await ocs("GET", `${V3}/signaling/settings`, { ...who, query: { token } });
  if (res.status !== 200) throw new Error(`settings: ${res.status}`);
  return res.data as Settings;
}

export class StandaloneClient {
  private readonly inbox: ServerFrame[] = [];
  private wake: (() => void) | null = null;
  private nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;
  sessionId = "";
  resumeId = "";

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const json = JSON.parse(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer));
      this.inbox.push(ServerFrame.parse(json));
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
  }

  /** Connects to the `server` of the settings as the web client does (`…/spreed`) and reads the welcome. */
  static async connect(server: string): Promise<{ client: StandaloneClient; welcome: ServerFrame }> {
    const url = new URL(`${server.replace(/\/$/, "")}/spreed`);
    const res = await exports.default.fetch(new Request(`${BASE}${url.pathname}`, { headers: { Upgrade: "websocket" } }));
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
    res.webSocket.accept();
    const client = new StandaloneClient(res.webSocket);
    return { client, welcome: await client.next((f) => f.type === "welcome") };
  }

  /** Sends a request with an id and returns the frame answering it. */
  async request(type: string, body: unknown): Promise<ServerFrame> {
    const id = String(this.nextId++);
    this.ws.send(JSON.stringify({ id, type, [type]: body }));
    return this.next((f) => "id" in f && f.id === id);
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** hello with the settings' v1 or v2 parameters; remembers the session and resume ids. */
  async hello(settings: Settings, version: "1.0" | "2.0"): Promise<ServerFrame> {
    const params = settings.helloAuthParams[version];
    const answer = await this.request("hello", { version, auth: { url: `${BASE}${V3}/signaling/backend`, params } });
    if (answer.type === "hello") {
      this.sessionId = answer.hello.sessionid;
      this.resumeId = answer.hello.resumeid;
    }
    return answer;
  }

  joinRoom(roomid: string, sessionid: string): Promise<ServerFrame> {
    return this.request("room", { roomid, sessionid });
  }

  /** The next frame matching `where` (earlier frames stay queued). */
  async next(where: (f: ServerFrame) => boolean): Promise<ServerFrame> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const index = this.inbox.findIndex(where);
      if (index >= 0) return this.inbox.splice(index, 1)[0] as ServerFrame;
      if (Date.now() > deadline) throw new Error(`no matching frame; queued: ${JSON.stringify(this.inbox)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
      this.wake = null;
    }
  }

  /** The next event of a target and type. */
  async event(target: string, type: string, where: (body: any) => boolean = () => true): Promise<any> {
    const f = await this.next((x) => x.type === "event" && x.event.target === target && x.event.type === type && where((x.event as Record<string, unknown>)[type]));
    return f.type === "event" ? (f.event as Record<string, unknown>)[type] : null;
  }

  /** Frames received so far and not taken (for asserting that nothing arrived). */
  pending(): ServerFrame[] {
    return [...this.inbox];
  }

  close(): void {
    this.ws.close(1000, "bye");
  }
}
