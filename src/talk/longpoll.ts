/**
 * Talk's internal signaling (the long-poll stock Talk clients use without a signaling server),
 * run inside the room object as one of its presences: messages between sessions wait in the
 * room's storage, long-polls wait in memory, and every committed room change (participants, call
 * flags, lobby, removal, deletion) wakes every waiting poll so it returns the new `usersInRoom`.
 */
import { USERS_IN_ROOM_SECONDS } from "../room/calls";
import { type Caller, fail, ok, type Outcome } from "../room/contract";
import { callerAttendee, callerSession } from "../room/ops/actor";
import { isLoggedInModeratorType } from "../room/permissions";
import type { Presence, RoomChange } from "../room/presence";
import { permissionsOf } from "../room/rules";
import { nowSeconds, type RoomStore } from "../room/store";
import type { RoomMeta } from "../room/types";
import { z } from "zod";

/** How long a signaling long-poll waits for something to deliver (reference §7.2). */
export const SIGNALING_WAIT_MS = 30_000;

/** One entry of internal signaling's `usersInRoom`. */
export interface SignalingUser {
  userId: string;
  roomId: number;
  lastPing: number;
  sessionId: string;
  inCall: number;
  participantPermissions: number;
  /** Since Talk 20: who the session belongs to (the web call view sets the peer's actor from it). */
  actorType: string;
  actorId: string;
}

/** What a long-poll returns: queued messages (JSON strings) and who is in the room. */
export interface SignalingPull {
  messages: string[];
  usersInRoom: SignalingUser[];
}

/** A message a client posts to internal signaling: its own session id and the encoded payload. */
export interface SignalingPost {
  sessionId: string;
  fn: string;
}

/** Hands a message to a recipient session that signals over a WebSocket; false when it does not. */
export type Relay = (to: string, message: { type: string; payload?: unknown; [key: string]: unknown }, from: { talk: string; userId: string | null }) => boolean;

/** The inner message: the recipient and type are what the server looks at; the rest is passed on. */
const InnerMessage = z.looseObject({ to: z.string().max(600), type: z.string().max(100) });

const EMPTY: SignalingPull = { messages: [], usersInRoom: [] };

export class TalkLongPoll implements Presence {
  /** Long-polls waiting, by session id: calling one ends that wait. */
  private readonly waiters = new Map<string, () => void>();

  constructor(
    private readonly store: RoomStore,
    private readonly relay: Relay = () => false,
  ) {}

  /**
   * Queues WebRTC messages from the caller's session to other sessions of this room. Messages
   * claiming another sender session, to unknown sessions, or `control` from non-moderators are
   * dropped, as the reference does.
   */
  send(caller: Caller, posts: SignalingPost[]): Outcome<number> {
    if (!this.store.meta) return fail(404, "room");
    const session = callerSession(this.store, caller);
    if (!session) return fail(404, "session");
    const sender = this.store.attendeeById(session.attendeeId);
    const moderator = sender !== null && caller.kind === "user" && isLoggedInModeratorType(sender.participantType);
    const now = nowSeconds();
    let queued = 0;
    for (const post of posts) {
      if (post.sessionId !== session.id) continue;
      const message = parseInner(post.fn);
      if (!message || (message.type === "control" && !moderator)) continue;
      if (!this.store.sessionById(message.to)) continue;
      queued += 1;
      const from = { talk: session.id, userId: sender?.actorType === "users" ? sender.actorId : null };
      if (this.relay(message.to, { ...message, from: session.id }, from)) continue;
      this.store.queue.add(message.to, JSON.stringify({ ...message, from: session.id }), now);
      this.waiters.get(message.to)?.();
    }
    return ok(queued);
  }

  /**
   * The long-poll: refreshes the session's ping, waits up to `waitMs` for messages or a change of
   * the room, then hands out the queued messages and who is in the room. 404 without a session;
   * 409 when the caller is still a member but their session is gone (replaced or expired).
   */
  async pull(caller: Caller, roomSerial: number, waitMs = SIGNALING_WAIT_MS): Promise<Outcome<SignalingPull>> {
    if (!this.store.meta) return fail(404, "room", EMPTY);
    const session = callerSession(this.store, caller);
    if (!session) return fail(callerAttendee(this.store, caller, null) ? 409 : 404, "session", EMPTY);
    this.store.ping(session.id, nowSeconds());
    if (this.store.queue.count(session.id) === 0) await this.wait(session.id, waitMs);
    if (!this.store.meta) return fail(404, "room", EMPTY);
    if (!this.store.sessionById(session.id)) {
      // Replaced by a newer join, removed or expired while waiting: 409 while still a member, else 404.
      return fail(callerAttendee(this.store, caller, null) ? 409 : 404, "session", EMPTY);
    }
    return ok({ messages: this.store.queue.take(session.id), usersInRoom: this.usersInRoom(this.store.meta, roomSerial) });
  }

  /** Queues a message for a session's next long-poll (from a session signaling over a WebSocket). */
  queue(to: string, message: string): void {
    this.store.queue.add(to, message, nowSeconds());
    this.waiters.get(to)?.();
  }

  changed(change: RoomChange): void {
    if (change.empty) return;
    for (const wake of [...this.waiters.values()]) wake();
  }

  nextAlarm(): number | null {
    return null;
  }

  async alarm(): Promise<void> {}

  private usersInRoom(meta: RoomMeta, roomSerial: number): SignalingUser[] {
    return this.store.sessionsWithAttendees(nowSeconds() - USERS_IN_ROOM_SECONDS).map((s) => ({
      userId: s.actorType === "users" ? s.actorId : "",
      roomId: roomSerial,
      lastPing: s.lastPing,
      sessionId: s.id,
      inCall: s.inCall,
      participantPermissions: permissionsOf(meta, s),
      actorType: s.actorType,
      actorId: s.actorId,
    }));
  }

  /** Resolves after `ms`, or earlier when a room change or a message for the session arrives. */
  private wait(sessionId: string, ms: number): Promise<void> {
    this.waiters.get(sessionId)?.();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.waiters.get(sessionId) === done) this.waiters.delete(sessionId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.set(sessionId, done);
    });
  }
}

function parseInner(fn: string): z.infer<typeof InnerMessage> | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fn);
  } catch {
    return null;
  }
  const parsed = InnerMessage.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
