/**
 * The deployed room Durable Object: the dialect-neutral core (src/room/room.ts) plus the live
 * protocols it hosts, each a presence that hears every committed room change:
 * - Talk's internal signaling long-poll (src/talk/longpoll.ts), reached by RPC;
 * - Talk's standalone signaling WebSocket (src/talk/standalone/), reached by `fetch` of
 *   `/talk-signaling`, with the hibernation API;
 * - OpenTalk's signaling WebSocket (src/opentalk/signaling/), reached by `fetch` after the Worker
 *   redeemed a ticket, with the hibernation API.
 */
import { config } from "../lib/config";
import { unseal } from "../lib/crypto";
import { OpenTalkSignaling, type SignalingStart } from "../opentalk/signaling/protocol";
import type { Caller, Outcome } from "../room/contract";
import type { Presence } from "../room/presence";
import { resolveToken, roomStub } from "../room/directory";
import { RoomObject } from "../room/room";
import { type SignalingPost, type SignalingPull, TalkLongPoll } from "../talk/longpoll";
import { TALK_SIGNALING_PATH, TalkStandalone } from "../talk/standalone/protocol";
import type { Delivery, StandalonePeer, Visit, VisitorRequest } from "../talk/standalone/visits";

export class Room extends RoomObject implements StandalonePeer {
  private talkModule: TalkLongPoll | null = null;
  private standaloneModule: TalkStandalone | null = null;
  private openTalkModule: OpenTalkSignaling | null = null;

  private get talk(): TalkLongPoll {
    this.talkModule ??= new TalkLongPoll(this.store, (to, message, from) => this.standalone.room.relayFromLongPoll(to, message, from));
    return this.talkModule;
  }

  private get standalone(): TalkStandalone {
    this.standaloneModule ??= new TalkStandalone({
      ctx: this.ctx,
      store: this.store,
      secret: config(this.env).secret,
      apply: (op) => this.apply(op),
      armAlarm: () => this.commit.arm(),
      queueForLongPoll: (to, message) => this.talk.queue(to, message),
      peer: async (token) => {
        const room = await resolveToken(this.env, token);
        return room ? (roomStub(this.env, room.id) as unknown as StandalonePeer) : null;
      },
    });
    return this.standaloneModule;
  }

  private get openTalk(): OpenTalkSignaling {
    this.openTalkModule ??= new OpenTalkSignaling({
      ctx: this.ctx,
      store: this.store,
      apply: (op) => this.apply(op),
      armAlarm: () => this.commit.arm(),
      livekit: config(this.env).livekit,
      roomPassword: async () => (this.store.meta?.passwordSealed ? unseal(config(this.env).secret, this.store.meta.passwordSealed) : null),
    });
    return this.openTalkModule;
  }

  protected override presences(): Presence[] {
    return [this.talk, this.standalone, this.openTalk];
  }

  // Talk internal signaling

  async sendSignaling(caller: Caller, posts: SignalingPost[]): Promise<Outcome<number>> {
    return this.talk.send(caller, posts);
  }

  async pullSignaling(caller: Caller, roomSerial: number, waitMs?: number): Promise<Outcome<SignalingPull>> {
    return this.talk.pull(caller, roomSerial, waitMs);
  }

  // Talk standalone signaling: sessions of one room's socket that joined another (visits.ts)

  async standaloneVisit(visit: Visit): Promise<void> {
    await this.standalone.room.visit(visit);
  }

  async standaloneVisitorRequest(sid: string, request: VisitorRequest): Promise<boolean> {
    return this.standalone.room.visitorRequest(sid, request);
  }

  async standaloneVisitEnd(sid: string): Promise<void> {
    await this.standalone.room.visitEnd(sid);
  }

  async standaloneVisitResumed(sid: string): Promise<void> {
    this.standalone.room.visitResumed(sid);
  }

  async standaloneDeliver(from: string, items: Delivery[]): Promise<string[]> {
    return this.standalone.deliver(from, items);
  }

  // OpenTalk signaling

  /** Checks a signaling start (membership, password, ban, the call rule) and reserves the participant. */
  async prepareSignaling(start: SignalingStart): Promise<Outcome<{ participantId: string; resumption: string }>> {
    return this.openTalk.prepare(start);
  }

  /** The only fetch: a signaling upgrade forwarded by the Worker (Talk's, or OpenTalk's after redeeming a ticket). */
  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === TALK_SIGNALING_PATH) return this.standalone.accept(request);
    return this.openTalk.accept(request);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (TalkStandalone.owns(ws)) await this.standalone.message(ws, message);
    else await this.openTalk.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    if (TalkStandalone.owns(ws)) await this.standalone.closed(ws);
    else await this.openTalk.closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws);
  }
}
