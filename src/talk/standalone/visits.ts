/**
 * Signaling sessions that joined another conversation than the one whose socket carries them.
 *
 * `signaling/settings?token=` names the conversation's own socket, and the web and Desktop clients
 * open a new connection when that address changes. Android does not: it keeps one connection per
 * account for the life of the app and joins every later conversation over it. Such a session
 * *visits* the other room: the socket stays in its home room's object, which forwards the client's
 * requests to the visited room's object by RPC; the visited room decides everything as for its own
 * sockets (the same join rules, routing and events) and hands the visitor's frames back to the home
 * room, in order, through the outbox below.
 */
import type { Routed } from "./frames";

/** A join of another room, as the home room asks for it. */
export interface Visit {
  /** The token of the room whose socket carries the session. */
  home: string;
  sid: string;
  userId: string | null;
  displayName: string;
  features: string[];
  roomid: string;
  talkId: string | undefined;
  id: string | undefined;
}

/** One frame for a visitor's socket; `end` says the visit is over (the socket stays open). */
export interface Delivery {
  sid: string;
  text?: string;
  end?: true;
}

/** A visitor's `message` or `control` request, forwarded by its home room. */
export interface VisitorRequest {
  kind: "message" | "control";
  routed: Routed;
  id: string | undefined;
}

/** What one room's object offers another for visits (RPC methods of the room Durable Object). */
export interface StandalonePeer {
  standaloneVisit(visit: Visit): Promise<void>;
  /** False when the visited room no longer knows the session. */
  standaloneVisitorRequest(sid: string, request: VisitorRequest): Promise<boolean>;
  standaloneVisitEnd(sid: string): Promise<void>;
  standaloneVisitResumed(sid: string): Promise<void>;
  /** Hands frames to the home room's sockets; answers the sessions it does not carry (anymore). */
  standaloneDeliver(from: string, items: Delivery[]): Promise<string[]>;
}

export type PeerLookup = (token: string) => Promise<StandalonePeer | null>;

/**
 * Steps that must not overtake each other, per key: each waits for the one queued before it under
 * the same key (a failed step does not hold up the next).
 */
export class Lanes {
  private readonly tails = new Map<string, Promise<void>>();

  run(key: string, step: () => Promise<void>): Promise<void> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(step);
    const settled = next.catch(() => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}

/**
 * Frames for visitors, batched per home room (one RPC for everything one change produced) and
 * handed over in order: each batch waits for the previous one to the same home.
 */
export class Outbox {
  private readonly queued = new Map<string, Delivery[]>();
  private readonly lanes = new Lanes();

  constructor(
    private readonly self: () => string,
    private readonly peer: PeerLookup,
    /** Called with the sessions a home room no longer carries. */
    private readonly gone: (home: string, sids: string[]) => Promise<void>,
  ) {}

  push(home: string, item: Delivery): void {
    const queue = this.queued.get(home);
    if (queue) {
      queue.push(item);
      return;
    }
    this.queued.set(home, [item]);
    queueMicrotask(() => this.flush(home));
  }

  private flush(home: string): void {
    const items = this.queued.get(home) ?? [];
    this.queued.delete(home);
    void this.lanes
      .run(home, async () => {
        const peer = await this.peer(home);
        const gone = peer ? await peer.standaloneDeliver(this.self(), items) : [...new Set(items.map((i) => i.sid))];
        if (gone.length > 0) await this.gone(home, gone);
      })
      .catch(() => {
        // The home room is unreachable for now: its visitors end when it says bye or expires.
      });
  }
}
