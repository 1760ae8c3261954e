/**
 * The room's attendee and session rows kept in memory, with the lookups the hot paths make
 * (join, leave, every caller lookup). `RoomStore` fills them from storage once and keeps them in
 * step with each of its writes; the rows are frozen, so a reader cannot change a kept copy.
 */
import type { Attendee, Session } from "./types";

/** An attendee as stored: with the user's uuid and whether an invitation notification is open. */
export type AttendeeRow = Attendee & { userUuid: string | null; invitationOpen: boolean };

const actorKey = (actorType: string, actorId: string) => `${actorType}\u0000${actorId}`;

export class KeptAttendees {
  private readonly byId = new Map<number, AttendeeRow>();
  private readonly byActor = new Map<string, number>();
  /** A user's attendee is their oldest one (a user has one; the rule only makes the choice stable). */
  private readonly byUser = new Map<string, number>();

  constructor(rows: Iterable<AttendeeRow>) {
    for (const a of rows) this.index(Object.freeze(a));
  }

  get(id: number): AttendeeRow | null {
    return this.byId.get(id) ?? null;
  }

  ofActor(actorType: string, actorId: string): AttendeeRow | null {
    const id = this.byActor.get(actorKey(actorType, actorId));
    return id === undefined ? null : this.get(id);
  }

  ofUser(userUuid: string): AttendeeRow | null {
    const id = this.byUser.get(userUuid);
    return id === undefined ? null : this.get(id);
  }

  values(): IterableIterator<AttendeeRow> {
    return this.byId.values();
  }

  /** Replaces the row of `id` with `fresh` (null: the attendee is gone). */
  replace(id: number, fresh: AttendeeRow | null): void {
    const old = this.byId.get(id);
    if (old) this.unindex(old);
    if (fresh) this.index(Object.freeze(fresh));
  }

  private index(a: AttendeeRow): void {
    this.byId.set(a.id, a);
    this.byActor.set(actorKey(a.actorType, a.actorId), a.id);
    if (!a.userUuid) return;
    const held = this.byUser.get(a.userUuid);
    if (held === undefined || a.id < held) this.byUser.set(a.userUuid, a.id);
  }

  private unindex(a: AttendeeRow): void {
    this.byId.delete(a.id);
    this.byActor.delete(actorKey(a.actorType, a.actorId));
    if (!a.userUuid || this.byUser.get(a.userUuid) !== a.id) return;
    this.byUser.delete(a.userUuid);
    for (const other of this.byId.values()) if (other.userUuid === a.userUuid) this.index(other);
  }
}

export class KeptSessions {
  private readonly byId = new Map<string, Session>();

  /** `rows` oldest first (the newest of a cookie wins ties by coming later). */
  constructor(rows: Iterable<Session>) {
    for (const s of rows) this.byId.set(s.id, Object.freeze(s));
  }

  get(id: string): Session | null {
    return this.byId.get(id) ?? null;
  }

  /** The newest session of a cookie (+ tab id). */
  ofCookie(cookie: string): Session | null {
    let newest: Session | null = null;
    for (const s of this.byId.values()) if (s.cookie === cookie && (newest === null || s.createdAt >= newest.createdAt)) newest = s;
    return newest;
  }

  countOf(attendeeId: number): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.attendeeId === attendeeId) n++;
    return n;
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  add(s: Session): void {
    this.byId.set(s.id, Object.freeze({ ...s }));
  }

  /** Applies a write to a kept session. */
  update(id: string, change: Partial<Session>): void {
    const old = this.byId.get(id);
    if (old) this.byId.set(id, Object.freeze({ ...old, ...change }));
  }

  remove(id: string): void {
    this.byId.delete(id);
  }
}
