/**
 * A live protocol hosted by the room object (Talk's internal-signaling long-poll, OpenTalk's
 * signaling sockets, …). Every room change ends in one commit step (commit.ts) that hands each
 * presence the same `RoomChange`, whichever dialect made it; the presence decides what its clients
 * must hear (a frame, a woken long-poll, a closed socket).
 */
import type { ChatActor, RoomMeta, StoredMessage } from "./types";

/** A member who lost their membership (or moderator rights, or a right) in this change. */
export interface MemberChange {
  attendeeId: number;
  userUuid: string | null;
  actorId?: string;
  /** Left with their last session (a transient attendee), not put out by anyone. */
  left?: boolean;
}

/** What one committed operation changed. Built by the operations, read by every presence. */
export class RoomChange {
  /** The persisted room settings changed (the meta row is saved, the D1 summary follows). */
  settings = false;
  /** Sessions came or went, or in-call flags changed. */
  sessions = false;
  /** The lobby (waiting room) switched: its new state. */
  lobby: boolean | null = null;
  /** The room went read-only. */
  readOnly = false;
  /** Attendees removed from the room. */
  readonly removed: MemberChange[] = [];
  /** Attendees whose type or permissions changed. */
  readonly updated: MemberChange[] = [];
  /** Users banned from the live meeting. */
  readonly banned: string[] = [];
  /** The room is gone. */
  deleted = false;
  /** Its id, when it is gone (live protocols may hold resources named after it). */
  deletedId: string | null = null;
  /** Chat messages written (any scope), oldest first. */
  readonly messages: StoredMessage[] = [];
  /** The chat's own state moved (a read marker, the meeting's chat switch): the summary follows. */
  chat = false;
  /** The meeting's chat was switched on or off, by whom (their OpenTalk participant id, if any). */
  chatSwitch: { enabled: boolean; by: ChatActor; source: string | null } | null = null;
  /** A chat history was cleared. */
  historyCleared: { scope: string; by: ChatActor; source: string | null } | null = null;

  /** No room state changed (chat traffic aside, which its own readers watch for). */
  get empty(): boolean {
    return !this.settings && !this.sessions && this.lobby === null && !this.readOnly && this.removed.length === 0 && this.updated.length === 0 && this.banned.length === 0 && !this.deleted;
  }
}

export interface Presence {
  /** Called once per committed change, after storage holds it (meta is null when deleted). */
  changed(change: RoomChange, meta: RoomMeta | null): void;
  /** When this presence wants the room's alarm next (ms), or null. */
  nextAlarm(): number | null;
  /** The alarm fired: housekeeping (idle sockets, …). */
  alarm(now: number): Promise<void>;
}
