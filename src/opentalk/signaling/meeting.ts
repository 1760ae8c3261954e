/**
 * The live OpenTalk meeting as stored in the room object: participant rows (`ot_participants`),
 * bans and moderation switches, and sending frames to participants' sockets. Shared by the
 * signaling protocol (signaling-opentalk.ts) and its moderation commands (signaling-moderation.ts).
 */
import type { TariffResource } from "../../db/tariffs";
import type { LiveKitSettings } from "../../lib/config";
import type { Outcome } from "../../room/contract";
import type { Tx } from "../../room/ops/actor";
import type { RoomStore } from "../../room/store";
import {
  type ControlError,
  type ControlState,
  frame,
  type ModerationError,
  type ParticipationKind,
  type Role,
} from "./frames";

/** What the room object gives the protocol: its storage, the one write path, the password. */
/** The hibernation tag every OpenTalk signaling socket carries (the room object hosts Talk's too). */
export const OPENTALK_SOCKET_TAG = "opentalk-signaling";

export interface SignalingHost {
  readonly ctx: DurableObjectState;
  readonly store: RoomStore;
  /** Runs a room operation through the room's write path (its commit tells every presence). */
  apply<T>(op: (tx: Tx) => Outcome<T>): Promise<Outcome<T>>;
  /** Re-arms the room's alarm (the heartbeat duty starts with the first socket). */
  armAlarm(): Promise<void>;
  /** The room password in clear (join_success `room_info.password`), or null when none is set. */
  roomPassword(): Promise<string | null>;
  /** The LiveKit server of the meeting's media, or null when none is configured. */
  readonly livekit: LiveKitSettings | null;
}

export interface SignalingStart {
  kind: ParticipationKind;
  userUuid: string | null;
  /** The user's login name (their Talk actor id), and whether they administer EdgeTalk. */
  userid?: string;
  admin?: boolean;
  displayName: string;
  avatarUrl: string | null;
  /** The Tariff resource of the room (its creator's), shown in join_success. */
  tariff: TariffResource;
  /** Guests must give the room password; registered users and call-in are authorised otherwise. */
  checkPassword: boolean;
  password?: string;
  resumption?: string;
  breakoutRoom?: string;
  /** The room's creator as join_success `room_info.created_by` shows them. */
  creator: CreatorInfo;
  /** The event the room belongs to (join_success `event_info`), or null for a plain room. */
  eventInfo: EventInfo | null;
}

/** Carried by the ticket from the Worker to `accept`. */
export interface TicketEntrant {
  participantId: string;
}

/** Internal header on the Worker → DO upgrade request naming the redeemed ticket's entrant. */
export const ENTRANT_HEADER = "X-EdgeTalk-Entrant";

export interface CreatorInfo {
  title: string;
  firstname: string;
  lastname: string;
  display_name: string;
  avatar_url: string;
}

export interface EventInfo {
  id: string;
  room_id: string;
  title: string;
  is_adhoc: boolean;
}

/** Why a participant left, as `left.reason` tells the others. */
export type LeftReason = "quit" | "timeout" | "sent_to_waiting_room";


export type Status = "new" | "waiting" | "joined" | "left";

export interface Participant {
  id: string;
  kind: ParticipationKind;
  userUuid: string | null;
  displayName: string;
  avatarUrl: string | null;
  role: Role;
  isOwner: boolean;
  status: Status;
  accepted: boolean;
  connected: boolean;
  handUp: boolean;
  handUpdatedAt: string;
  joinedAt: string;
  leftAt: string | null;
  leftReason: LeftReason | null;
  tariff: string;
  /** From the ticket: what join_success shows about the room and its event. */
  context: { creator: CreatorInfo; eventInfo: EventInfo | null; userid: string | null };
}

const NO_CREATOR: CreatorInfo = { title: "", firstname: "", lastname: "", display_name: "", avatar_url: "" };

function contextFromRow(text: string): Participant["context"] {
  try {
    const parsed = JSON.parse(text) as Partial<Participant["context"]>;
    return { creator: parsed.creator ?? NO_CREATOR, eventInfo: parsed.eventInfo ?? null, userid: parsed.userid ?? null };
  } catch {
    return { creator: NO_CREATOR, eventInfo: null, userid: null };
  }
}

export const iso = (ms = Date.now()) => new Date(ms).toISOString();

export function participantFromRow(r: Record<string, SqlStorageValue>): Participant {
  return {
    id: r.id as string,
    kind: r.kind as ParticipationKind,
    userUuid: (r.user_uuid as string | null) ?? null,
    displayName: r.display_name as string,
    avatarUrl: (r.avatar_url as string | null) ?? null,
    role: r.role as Role,
    isOwner: r.is_owner === 1,
    status: r.status as Status,
    accepted: r.accepted === 1,
    connected: r.connected === 1,
    handUp: r.hand_up === 1,
    handUpdatedAt: r.hand_updated_at as string,
    joinedAt: r.joined_at as string,
    leftAt: (r.left_at as string | null) ?? null,
    leftReason: (r.left_reason as LeftReason | null) ?? null,
    tariff: r.tariff as string,
    context: contextFromRow((r.context as string | null) ?? "{}"),
  };
}

export function controlState(p: Participant): ControlState {
  return {
    display_name: p.displayName,
    role: p.role,
    ...(p.avatarUrl ? { avatar_url: p.avatarUrl } : {}),
    participation_kind: p.kind,
    hand_is_up: p.handUp,
    joined_at: p.joinedAt,
    left_at: p.leftAt,
    hand_updated_at: p.handUpdatedAt,
    is_room_owner: p.isOwner,
  };
}

/**
 * Writes to the meeting's tables (`ot_participants`, `ot_settings`) in this isolate, counted. A
 * Meeting keeps its rows in memory and reads them again after any write, of any room of the
 * isolate: an over-approximation that costs a reload now and then and can never serve stale rows,
 * as long as every write goes through `writeMeeting` (the room's deletion counts as one too).
 */
let meetingWrites = 0;

export function writeMeeting(sql: SqlStorage, query: string, ...bindings: SqlStorageValue[]): void {
  sql.exec(query, ...bindings);
  meetingWrites++;
}

/** The room's tables were emptied outside `writeMeeting` (the room was deleted). */
export function meetingWiped(): void {
  meetingWrites++;
}

export class Meeting {
  /** The participant of each signaling socket, read from its attachment once per object instance. */
  private readonly owners = new WeakMap<WebSocket, string | null>();

  constructor(private readonly ctx: DurableObjectState) {}

  get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  sockets(participantId?: string): WebSocket[] {
    return this.ctx.getWebSockets(participantId);
  }

  /** Every participant row (frozen), in join order, and the meeting settings, as of `meetingWrites`. */
  private kept: {
    at: number;
    participants: Map<string, Participant>;
    settings: Map<string, string>;
    /** Per set of statuses: the sockets of the connected participants in them, with their owner. */
    recipients: Map<string, [WebSocket, string][]>;
  } | null = null;

  private rows(): NonNullable<Meeting["kept"]> {
    if (this.kept && this.kept.at === meetingWrites) return this.kept;
    const participants = new Map<string, Participant>();
    for (const row of this.sql.exec("SELECT * FROM ot_participants ORDER BY joined_at, id")) {
      const p = Object.freeze(participantFromRow(row));
      participants.set(p.id, p);
    }
    const settings = new Map<string, string>();
    for (const row of this.sql.exec("SELECT key, value FROM ot_settings")) settings.set(row.key as string, row.value as string);
    this.kept = { at: meetingWrites, participants, settings, recipients: new Map() };
    return this.kept;
  }

  participant(id: string): Participant | null {
    return this.rows().participants.get(id) ?? null;
  }

  /** Connected participants in `status`, in join order. */
  all(status: Status): Participant[] {
    const out: Participant[] = [];
    for (const p of this.rows().participants.values()) if (p.connected && p.status === status) out.push(p);
    return out;
  }

  count(status: Status): number {
    return this.all(status).length;
  }

  countModerators(): number {
    let n = 0;
    for (const p of this.rows().participants.values()) if (p.connected && p.status === "joined" && p.role === "moderator") n++;
    return n;
  }

  setting(key: string): string | null {
    return this.rows().settings.get(key) ?? null;
  }

  send(participantId: string, namespace: string, payload: Record<string, unknown>): void {
    this.sendText(participantId, frame(namespace, payload));
  }

  /** Sends a frame already built (a broadcast builds its frame once for every recipient). */
  sendText(participantId: string, text: string): void {
    for (const ws of this.ctx.getWebSockets(participantId)) {
      try {
        ws.send(text);
      } catch {
        // the close handler cleans up
      }
    }
  }

  /**
   * One frame to every connected participant in `statuses`: built once, and sent in one pass over
   * their sockets as kept since the last write (no query, no per-recipient lookup).
   */
  broadcast(namespace: string, payload: Record<string, unknown>, statuses: Status[], except?: string): void {
    const text = frame(namespace, payload);
    for (const [ws, owner] of this.recipients(statuses)) {
      if (owner === except) continue;
      try {
        ws.send(text);
      } catch {
        // the close handler cleans up
      }
    }
  }

  /**
   * The signaling sockets of the connected participants in `statuses`, kept with the rows: a
   * participant's socket is accepted before the write that marks them connected, and every change
   * of who is connected, or in which status, is such a write.
   */
  private recipients(statuses: Status[]): [WebSocket, string][] {
    const kept = this.rows();
    const key = statuses.join(",");
    let list = kept.recipients.get(key);
    if (!list) {
      list = [];
      for (const ws of this.ctx.getWebSockets(OPENTALK_SOCKET_TAG)) {
        const owner = this.owner(ws);
        const p = owner === null ? undefined : kept.participants.get(owner);
        if (p?.connected && statuses.includes(p.status)) list.push([ws, p.id]);
      }
      kept.recipients.set(key, list);
    }
    return list;
  }

  /** The participant a signaling socket belongs to (its attachment's `p`). */
  private owner(ws: WebSocket): string | null {
    let owner = this.owners.get(ws);
    if (owner === undefined) {
      owner = (ws.deserializeAttachment() as { p?: string } | null)?.p ?? null;
      this.owners.set(ws, owner);
    }
    return owner;
  }

  /**
   * Waiting-room news (`joined_waiting_room`, `left_waiting_room`) goes to every participant in the
   * meeting, as the reference controller sends it; the waiting list itself is the moderators'.
   */
  toJoined(payload: Record<string, unknown>, except?: string): void {
    this.broadcast("moderation", payload, ["joined"], except);
  }

  controlError(ws: WebSocket, error: ControlError): void {
    ws.send(frame("control", { message: "error", error }));
  }

  moderationError(ws: WebSocket, error: ModerationError): void {
    ws.send(frame("moderation", { message: "error", error }));
  }
}
