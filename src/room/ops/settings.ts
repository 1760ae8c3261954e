/**
 * Room settings: one operation for every setting, whichever dialect changes it (Talk's rename,
 * password, lobby, read-only, public, default permissions and SIP; OpenTalk's PATCH room, event
 * changes and waiting-room moderation). Each field has one rule; a patch is checked whole before
 * anything is written.
 */
import { isSipCompatibleToken, PIN_LENGTH, sipDigits } from "../calls";
import { type Caller, fail, ok, type Outcome } from "../contract";
import { modifyPermissions } from "../permissions";
import { check, guestsByInviteCode, isGroupOrPublic, isOneToOne, type Need } from "../rules";
import { type RoomStore, nowSeconds } from "../store";
import { type ChatActor, ParticipantType, RoomType } from "../types";
import { recomputeCall } from "./call-state";
import { type Access, access, removeAttendee, type Tx, updateAttendee } from "./actor";
import { callerActor, recordSystem, SYSTEM_ACTOR } from "./chat";

/**
 * The latest lobby timer (Unix seconds) the room's alarm can hold: alarm times are kept in
 * nanoseconds as a signed 64-bit integer, which ends in April 2262.
 */
export const LOBBY_TIMER_MAX = 9_223_372_035;

export interface SettingsPatch {
  name?: string;
  description?: string;
  /** A hashed and sealed password; null clears it. */
  password?: { hash: string; sealed: string } | null;
  /** Lobby (= waiting room) on or off, with the time it opens by itself (Unix seconds, 0 none). */
  lobby?: { state: number; timer?: number | null };
  readOnly?: number;
  /** Who may find and join the room: 0 its participants, 1 registered users, 2 also guest accounts. */
  listable?: number;
  public?: boolean;
  defaultPermissions?: number;
  sip?: { state: number; mayEnable: boolean; configured: boolean };
}

/** The access level each field needs. */
const NEEDS: Record<keyof SettingsPatch, Need> = {
  name: "configure",
  description: "configure",
  password: "configure",
  lobby: "moderator",
  readOnly: "configure",
  listable: "configure",
  public: "configureLoggedIn",
  defaultPermissions: "configure",
  sip: "configureLoggedIn",
};

/** The strictest level first, so a refused patch names the missing role. */
const ORDER: Need[] = ["configureLoggedIn", "configure", "loggedInModerator", "moderator", "participant"];

export function updateSettings(tx: Tx, caller: Caller, patch: SettingsPatch): Outcome<Access> {
  const fields = (Object.keys(patch) as (keyof SettingsPatch)[]).filter((k) => patch[k] !== undefined);
  if (fields.length === 0) return access(tx, caller, "participant");
  const needs = new Set(fields.map((f) => NEEDS[f]));
  // The caller is resolved once; every needed level is checked, the strictest first (a guest
  // moderator meets "moderator" but not "configureLoggedIn"), so a refusal names the missing role.
  const granted = access(tx, caller, "participant", { memberless: true });
  if (!granted.ok) return granted;
  for (const need of ORDER.filter((n) => needs.has(n))) {
    const checked = check(need, tx.meta, caller, granted.value.attendee);
    if (!checked.ok) return checked;
  }
  const refused = refusal(tx, patch);
  if (refused) return refused;
  apply(tx, patch, callerActor(caller, granted.value.attendee));
  return granted;
}

/** The room-type and value rules of each field (Talk reference §6.1, §8, §10). */
function refusal(tx: Tx, patch: SettingsPatch): Outcome<never> | null {
  const { meta } = tx;
  if ((patch.name !== undefined || patch.description !== undefined) && isOneToOne(meta.type)) return fail(400, "type");
  if (patch.public !== undefined && !isGroupOrPublic(meta.type)) return fail(400, "type");
  if (patch.readOnly !== undefined && !isGroupOrPublic(meta.type)) return fail(400, "type");
  if (patch.password !== undefined && !guestsByInviteCode(meta)) return fail(403, "type");
  if (patch.defaultPermissions !== undefined && !isGroupOrPublic(meta.type)) return fail(400, "type");
  if (patch.listable !== undefined && !isGroupOrPublic(meta.type)) return fail(400, "type");
  if (patch.lobby !== undefined) {
    const timer = patch.lobby.timer ?? 0;
    if (!Number.isInteger(timer) || timer < 0 || timer > LOBBY_TIMER_MAX) return fail(400, "value");
    if (!isGroupOrPublic(meta.type)) return fail(400, "type");
    if (meta.objectType === "file" || meta.objectType === "share:password") return fail(400, "object");
  }
  if (patch.sip !== undefined) {
    const { sip } = patch;
    if (!sip.mayEnable) return fail(401, "config");
    if (!sip.configured) return fail(412, "config");
    if (!isGroupOrPublic(meta.type)) return fail(400, "type");
    if (!isSipCompatibleToken(meta.token)) return fail(400, "token");
    if (meta.sipEnabled === sip.state) return fail(400, "value");
  }
  return null;
}

/** Applies a checked patch; each change of a setting is recorded in the chat as the reference does. */
function apply(tx: Tx, patch: SettingsPatch, actor: ChatActor): void {
  const { meta, store, change } = tx;
  change.settings = true;
  if (patch.name !== undefined && patch.name !== meta.name) {
    recordSystem(tx, actor, "conversation_renamed", { oldName: meta.name, newName: patch.name });
    meta.name = patch.name;
  }
  if (patch.description !== undefined && patch.description !== meta.description) {
    recordSystem(tx, actor, patch.description === "" ? "description_removed" : "description_set");
    meta.description = patch.description;
  }
  if (patch.password !== undefined) {
    if (patch.password !== null || meta.passwordHash !== null) recordSystem(tx, actor, patch.password ? "password_set" : "password_removed");
    meta.passwordHash = patch.password?.hash ?? null;
    meta.passwordSealed = patch.password?.sealed ?? null;
  }
  if (patch.public !== undefined) {
    const type = patch.public ? RoomType.Public : RoomType.Group;
    if (type !== meta.type) recordSystem(tx, actor, patch.public ? "guests_allowed" : "guests_disallowed");
    meta.type = type;
    if (!patch.public) {
      // Going private removes guests, guest moderators and self-joined users with their sessions.
      const transient = [ParticipantType.Guest, ParticipantType.UserSelfJoined, ParticipantType.GuestModerator];
      for (const a of store.attendees(`participant_type IN (${transient.join(", ")})`)) removeAttendee(tx, a);
    }
  }
  if (patch.readOnly !== undefined) {
    if (patch.readOnly === 1 && meta.readOnly !== 1) change.readOnly = true;
    if (patch.readOnly !== meta.readOnly) recordSystem(tx, actor, patch.readOnly === 1 ? "read_only" : "read_only_off");
    meta.readOnly = patch.readOnly;
    if (patch.readOnly === 1) endCall(tx);
  }
  if (patch.listable !== undefined && patch.listable !== meta.listable) {
    recordSystem(tx, actor, ["listable_none", "listable_users", "listable_all"][patch.listable] as string);
    meta.listable = patch.listable;
  }
  if (patch.defaultPermissions !== undefined) {
    meta.defaultPermissions = modifyPermissions("set", 0, patch.defaultPermissions);
    for (const a of store.attendees("permissions != 0")) updateAttendee(tx, a, { permissions: 0 });
    // Every attendee's effective permissions may have changed.
    for (const a of store.attendees("permissions = 0")) change.updated.push({ attendeeId: a.id, userUuid: a.userUuid });
  }
  if (patch.lobby !== undefined) {
    const { state, timer } = patch.lobby;
    if (state !== meta.lobbyState) {
      change.lobby = state === 1;
      recordSystem(tx, actor, state === 1 ? "lobby_non_moderators" : "lobby_none");
    }
    meta.lobbyState = state;
    meta.lobbyTimer = state === 1 ? (timer ?? 0) : 0;
    if (state === 1) {
      // Everyone without moderator rights leaves the call.
      store.clearInCall(true);
      change.sessions = true;
      recomputeCall(tx);
    }
  }
  if (patch.sip !== undefined) {
    meta.sipEnabled = patch.sip.state;
    if (patch.sip.state !== 0) assignPins(store);
  }
}

/** Disconnects every session from the call. */
export function endCall(tx: Tx): void {
  tx.store.clearInCall();
  tx.meta.callFlag = 0;
  tx.meta.callStartTime = 0;
  tx.change.sessions = true;
}

/** The lobby timer came: the lobby opens by itself (the alarm's duty). */
export function openLobbyByTimer(tx: Tx): boolean {
  if (tx.meta.lobbyTimer <= 0 || tx.meta.lobbyTimer > nowSeconds()) return false;
  tx.meta.lobbyState = 0;
  tx.meta.lobbyTimer = 0;
  tx.change.settings = true;
  tx.change.lobby = false;
  recordSystem(tx, SYSTEM_ACTOR, "lobby_timer_reached");
  return true;
}

/** Gives every user and email attendee without one a unique 7-digit dial-in PIN. */
export function assignPins(store: RoomStore): void {
  const taken = store.takenPins();
  for (const a of store.attendees("pin = '' AND actor_type IN ('users', 'emails')")) {
    let pin = sipDigits(PIN_LENGTH);
    while (taken.has(pin)) pin = sipDigits(PIN_LENGTH);
    taken.add(pin);
    store.updateAttendee(a, { pin });
  }
}

/** One per-user preference of the caller (favourite, notification levels). */
export function setPreference(
  tx: Tx,
  caller: Caller,
  column: "favorite" | "notification_level" | "notification_calls",
  value: number,
): Outcome<Access> {
  const granted = access(tx, caller, "participant");
  if (!granted.ok) return granted;
  const attendee = granted.value.attendee;
  if (!attendee) return fail(404, "room");
  tx.store.setPreference(attendee, column, value);
  return ok({ ...granted.value, attendee: tx.store.attendeeById(attendee.id) });
}
