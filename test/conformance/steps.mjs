/**
 * Step definitions with the semantics of spreed's FeatureContext (tests/integration/features/
 * bootstrap/FeatureContext.php at the Talk 21 branch point): the same requests, the same fields
 * compared, the same bookkeeping of room identifiers, message texts and guest sessions. Written
 * for EdgeTalk from reading that file; steps for features EdgeTalk does not have are listed in
 * OUT_OF_SCOPE with the reason, and a scenario that reaches one is reported as skipped.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, StepFailure, sha1, TEST_PASSWORD } from "./world.mjs";

const unquote = (s) => s.slice(1, -1).replaceAll("\\n", "\n");
const rowsHash = (table) => Object.fromEntries((table ?? []).map((r) => [r[0], r[1]]));
const hash = (table) => {
  if (!table || table.length === 0) return [];
  const [head, ...rows] = table;
  return rows.map((r) => Object.fromEntries(head.map((k, i) => [k, r[i]])));
};

const PERMISSIONS = { D: 0, C: 1, S: 2, J: 4, L: 8, A: 16, V: 32, P: 64, M: 128 };

function permissionsIn(text) {
  if (/^\d+$/.test(text)) return Number(text);
  let n = 0;
  for (const [c, v] of Object.entries(PERMISSIONS)) if (text.includes(c)) n += v;
  return n;
}

function permissionsOut(value) {
  let p = Number(value);
  let out = p === 0 ? "D" : "";
  for (const [c, v] of Object.entries(PERMISSIONS)) {
    if (v !== 0 && p & v) {
      out += c;
      p &= ~v;
    }
  }
  return out;
}



/** The OCS data of a list, in order (PHP arrays with gaps decode as objects). */
const list = (data) => (Array.isArray(data) ? data : data && typeof data === "object" ? Object.values(data) : []);

// ---------------------------------------------------------------------------------------------
// Rooms

async function createRoom(w, user, identifier, status, table) {
  const body = rowsHash(table);
  await w.as(user, () => w.request("POST", "/apps/spreed/api/v4/room", body));
  w.assertStatus(status);
  if (Number(status) === 201) {
    const data = w.data();
    w.identifierToToken.set(identifier, data.token);
    w.identifierToId.set(identifier, data.id);
    w.tokenToIdentifier.set(data.token, identifier);
  }
}

function roomRow(w, room, expected) {
  if (!w.tokenToIdentifier.has(room.token)) w.tokenToIdentifier.set(room.token, room.name);
  if (!w.identifierToToken.has(room.name)) w.identifierToToken.set(room.name, room.token);
  const data = {};
  const has = (k) => Object.hasOwn(expected, k);
  if (has("id")) data.id = w.tokenToIdentifier.get(room.token);
  if (has("name")) data.name = room.name;
  if (has("description")) data.description = room.description;
  for (const k of ["type", "hasPassword", "readOnly", "listable", "participantType", "sipEnabled"]) if (has(k)) data[k] = String(typeof room[k] === "boolean" ? Number(room[k]) : room[k]);
  for (const k of ["callFlag", "lobbyState", "breakoutRoomMode", "breakoutRoomStatus", "unreadMessages", "messageExpiration", "callRecording", "recordingConsent"]) if (has(k)) data[k] = Number(room[k]);
  for (const k of ["unreadMention", "unreadMentionDirect"]) if (has(k)) data[k] = Number(room[k]);
  if (has("attendeePin")) data.attendeePin = room.attendeePin ? "**PIN**" : "";
  // At the Talk 21 branch point FeatureContext tells an absent lastMessage ("UNSET") from an empty one.
  if (has("lastMessage")) data.lastMessage = !Object.hasOwn(room, "lastMessage") ? "UNSET" : room.lastMessage ? room.lastMessage.message : "";
  if (has("lastMessageActorType")) data.lastMessageActorType = room.lastMessage ? room.lastMessage.actorType : "";
  if (has("lastMessageActorId")) data.lastMessageActorId = room.lastMessage ? room.lastMessage.actorId : "";
  if (has("lastReadMessage")) {
    data.lastReadMessage = w.messageIdToText.get(Number(room.lastReadMessage)) ?? (room.lastReadMessage === -2 ? "FIRST_MESSAGE_UNREAD" : "UNKNOWN_MESSAGE");
  }
  for (const k of ["permissions", "attendeePermissions", "callPermissions", "defaultPermissions"]) if (has(k)) data[k] = permissionsOut(room[k]);
  return data;
}

function assertRooms(w, rooms, table) {
  const expected = hash(table);
  assertEquals(expected.length, rooms.length, "Room count does not match");
  assertEquals(
    expected,
    rooms.map((room, i) => roomRow(w, room, expected[i])),
  );
}

async function roomsOf(w, user) {
  await w.as(user, () => w.request("GET", "/apps/spreed/api/v4/room"));
  w.assertStatus(200);
  return list(w.data()).filter((r) => r.type !== 4 && r.type !== 6);
}

async function attendeeId(w, type, id, identifier, user) {
  const key = `${identifier}/${type}/${id}`;
  if (!w.userToAttendeeId.has(key) && user) await loadAttendees(w, user, identifier);
  const found = w.userToAttendeeId.get(key);
  if (found === undefined) throw new StepFailure(`attendee id unknown for ${type}/${id}`);
  return found;
}

async function loadAttendees(w, user, identifier) {
  await w.as(user, () => w.request("GET", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants`));
  w.assertStatus(200);
  for (const a of list(w.data())) w.userToAttendeeId.set(`${identifier}/${a.actorType}/${a.actorId}`, a.attendeeId);
}

/** A participant named in a step: a guest by their session, a stranger by a made-up id, a user by name. */
async function targetAttendee(w, participant, identifier, user, status) {
  if (participant === "stranger") return 123456789;
  const loader = Number(status) === 200 ? user : null;
  if (participant.startsWith("guest")) return attendeeId(w, "guests", sha1(w.userToSessionId.get(participant) ?? ""), identifier, loader);
  return attendeeId(w, "users", participant, identifier, loader);
}

/** FeatureContext::sortAttendees. */
function sortAttendees(a, b) {
  const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
  if ("roomToken" in a && "roomToken" in b && a.roomToken !== b.roomToken) return cmp(a.roomToken, b.roomToken);
  if ("participantType" in a && "participantType" in b && a.participantType !== b.participantType) return cmp(a.participantType, b.participantType);
  if (a.actorType !== b.actorType) return cmp(a.actorType, b.actorType);
  return cmp(a.actorId, b.actorId);
}

/** FeatureContext::assertAttendeeList: the table's columns, guests by their session, both sides sorted. */
function assertAttendees(w, identifier, table, attendees) {
  const keys = new Set(table[0]);
  const result = attendees.map((a) => {
    const data = {};
    if (keys.has("roomToken")) data.roomToken = w.tokenToIdentifier.get(a.roomToken);
    if (keys.has("actorType")) data.actorType = a.actorType;
    if (keys.has("actorId")) data.actorId = a.actorId;
    if (keys.has("participantType")) data.participantType = String(a.participantType);
    if (keys.has("inCall")) data.inCall = String(a.inCall);
    if (keys.has("attendeePin")) data.attendeePin = a.attendeePin ? "**PIN**" : "";
    if (keys.has("permissions")) data.permissions = permissionsOut(a.permissions);
    if (keys.has("attendeePermissions")) data.attendeePermissions = permissionsOut(a.attendeePermissions);
    if (keys.has("displayName")) data.displayName = String(a.displayName);
    if (keys.has("phoneNumber")) data.phoneNumber = String(a.phoneNumber);
    if (keys.has("callId")) data.callId = String(a.callId);
    if (keys.has("invitedActorId") && a.invitedActorId !== undefined) data.invitedActorId = String(a.invitedActorId);
    if (keys.has("status") && a.status !== undefined) data.status = String(a.status);
    if (keys.has("sessionIds")) data.sessionIds = `[${(a.sessionIds ?? []).map((id) => (id.includes("#") ? `SESSION${id.slice(id.indexOf("#"))}` : "SESSION")).join(",")}${(a.sessionIds ?? []).length ? "," : ""}]`;
    w.userToAttendeeId.set(`${identifier}/${a.actorType}/${a.actorId}`, a.attendeeId);
    return data;
  });
  result.sort(sortAttendees);
  const expected = hash(table)
    .map((e) => {
      const row = { ...e };
      if (row.actorId?.startsWith('"guest')) row.actorId = sha1(w.userToSessionId.get(row.actorId.slice(1, -1)) ?? "");
      const hashed = /^SHA256\(([a-z0-9@.+\-]+)\)$/.exec(row.actorId ?? "");
      if (hashed) row.actorId = createHash("sha256").update(hashed[1]).digest("hex");
      if (row.participantType !== undefined) row.participantType = String(PARTICIPANT_TYPES[row.participantType] ?? row.participantType);
      if (row.invitedActorId === "ABSENT") delete row.invitedActorId;
      if (row.status === "ABSENT") delete row.status;
      return row;
    })
    .sort(sortAttendees);
  assertEquals(expected, result);
}

const PARTICIPANT_TYPES = { OWNER: 1, MODERATOR: 2, USER: 3, GUEST: 4, USER_SELF_JOINED: 5, GUEST_MODERATOR: 6 };

// ---------------------------------------------------------------------------------------------
// Chat

async function sendMessage(w, user, identifier, status, body, text) {
  await w.as(user, () => w.request("POST", `/apps/spreed/api/v1/chat/${w.token(identifier)}`, body));
  w.assertStatus(status);
  const data = w.data();
  if (data && typeof data === "object" && data.id !== undefined) w.remember(text, data.id);
  return data;
}

function actorIdOf(w, message, field = "actorId", typeField = "actorType") {
  return message[typeField] === "guests" ? (w.sessionIdToUser.get(message[field]) ?? message[field]) : message[field];
}

/** FeatureContext::compareDataResponse: comments only (system messages filtered out), the table's columns. */
function compareMessages(w, table) {
  const actual = list(w.data());
  const messages = actual.filter((m) => m.systemMessage === "");
  for (const m of messages) w.remember(m.message, m.id);
  if (!table) {
    assertEquals(0, messages.length, "expected no messages");
    return;
  }
  const head = table[0];
  const expected = hash(table).map((e) => ({ ...e, message: e.message.replaceAll("\\n", "\n") }));
  assertEquals(expected.length, messages.length, `Message count does not match\n${JSON.stringify(messages, null, 1).slice(0, 3000)}`);
  const rows = messages.map((m, i) => {
    const data = {
      room: w.tokenToIdentifier.get(m.token),
      actorType: m.actorType,
      actorId: actorIdOf(w, m),
      actorDisplayName: m.actorDisplayName,
      message: m.message,
      messageParameters: expected[i].messageParameters === '"IGNORE"' ? '"IGNORE"' : JSON.stringify(m.messageParameters),
    };
    if (head.includes("parentMessage")) data.parentMessage = m.parent?.message ?? "";
    if (head.includes("referenceId")) data.referenceId = m.referenceId;
    if (head.includes("messageType")) data.messageType = m.messageType;
    if (Object.hasOwn(expected[i], "silent")) data.silent = m.silent !== undefined ? JSON.stringify(m.silent) : "!ISSET";
    if (head.includes("reactions")) data.reactions = JSON.stringify(m.reactions);
    if (head.includes("reactionsSelf")) data.reactionsSelf = m.reactionsSelf !== undefined ? JSON.stringify(m.reactionsSelf) : null;
    if (head.includes("lastEditActorId")) {
      data.lastEditActorType = m.lastEditActorType ?? "";
      data.lastEditActorDisplayName = m.lastEditActorDisplayName ?? "";
      data.lastEditActorId = m.lastEditActorType === "guests" ? (w.sessionIdToUser.get(m.lastEditActorId) ?? m.lastEditActorId) : (m.lastEditActorId ?? "");
    }
    return data;
  });
  // Compare the decoded parameters (PHP escapes slashes; key order is JSON's).
  const normalise = (r) => ({ ...r, messageParameters: r.messageParameters === '"IGNORE"' ? r.messageParameters : JSON.stringify(JSON.parse(r.messageParameters)) });
  assertEquals(expected.map(normalise), rows.map(normalise));
}

async function chatRequest(w, user, identifier, query) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  await w.as(user, () => w.request("GET", `/apps/spreed/api/v1/chat/${w.token(identifier)}?${qs}`));
}

// ---------------------------------------------------------------------------------------------
// The steps

/** [pattern, handler(world, groups, table)] — patterns are FeatureContext's. */
export const STEPS = [
  [/^user "([^"]*)" exists$/, async (w, [user]) => {
    const exists = await w.as("admin", () => w.request("GET", `/cloud/users/${user}`));
    if (exists.status === 200) return;
    await w.as("admin", () => w.request("POST", "/cloud/users", { userid: user, password: TEST_PASSWORD }));
    w.assertStatus(200);
    w.createdUsers.add(user);
    await w.as(user, () => w.request("GET", `/cloud/users/${user}`));
    w.assertStatus(200);
    await w.as("admin", () => w.request("PUT", `/cloud/users/${user}`, { key: "displayname", value: `${user}-displayname` }));
  }],
  [/^user "([^"]*)" is deleted$/, async (w, [user]) => {
    await w.as("admin", () => w.request("DELETE", `/cloud/users/${user}`));
    w.createdUsers.delete(user);
    await w.as("admin", () => w.request("GET", `/cloud/users/${user}`));
    assert(w.response.status === 404, `User ${user} exists`);
  }],
  [/^group "([^"]*)" exists$/, async (w, [group]) => {
    await w.as("admin", () => w.request("POST", "/cloud/groups", { groupid: group }));
    const code = w.response.json?.ocs?.meta?.statuscode;
    assert(code === 102 || code === 200, `group ${group}: ${w.response.text.slice(0, 200)}`);
    w.createdGroups.add(group);
  }],
  [/^user "([^"]*)" is member of group "([^"]*)"$/, async (w, [user, group]) => {
    await w.as("admin", () => w.request("POST", `/cloud/users/${user}/groups`, { groupid: group }));
    w.assertStatus(200);
  }],
  [/^user "([^"]*)" is not member of group "([^"]*)"$/, async (w, [user, group]) => {
    await w.as("admin", () => w.request("DELETE", `/cloud/users/${user}/groups`, { groupid: group }));
    w.assertStatus(200);
  }],
  [/^wait for (\d+) (seconds?)$/, async (_w, [seconds]) => {
    await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
  }],

  // Rooms
  [/^user "([^"]*)" creates room "([^"]*)" \((v4)\)$/, (w, [user, identifier], table) => createRoom(w, user, identifier, 201, table)],
  [/^user "([^"]*)" creates room "([^"]*)" with (\d+) \((v4)\)$/, (w, [user, identifier, status], table) => createRoom(w, user, identifier, status, table)],
  [/^user "([^"]*)" tries to create room with (\d+) \((v4)\)$/, async (w, [user, status], table) => {
    await w.as(user, () => w.request("POST", "/apps/spreed/api/v4/room", rowsHash(table)));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" (is|is not) participant of room "([^"]*)" \((v4)\)$/, async (w, [user, isOrNot, identifier], table) => {
    const participant = isOrNot === "is";
    if (user.startsWith("guest")) {
      await w.as(user, () => w.request("GET", `/apps/spreed/api/v4/room/${w.token(identifier)}`));
      const data = w.data();
      if (table) assertRooms(w, [data], table);
      if (participant) {
        w.assertStatus(200);
        assertEquals(w.userToSessionId.get(user), data.sessionId, "guest session");
      } else if (w.response.status === 200) {
        assertEquals(0, data.sessionId, "guest session");
      } else {
        w.assertStatus(404);
      }
      return;
    }
    const rooms = await roomsOf(w, user);
    if (participant) assert(rooms.length > 0, "no rooms");
    for (const room of rooms) {
      if (w.tokenToIdentifier.get(room.token) === identifier) {
        assert(participant, `Room ${identifier} found in user's room list`);
        if (table) assertRooms(w, [room], table);
        return;
      }
    }
    assert(!participant, `Room ${identifier} not found in user's room list`);
  }],
  [/^user "([^"]*)" is participant of the following (unordered )?rooms \((v4)\)$/, async (w, [user, unordered], table) => {
    let rooms = await roomsOf(w, user);
    if (!table) {
      assertEquals(0, rooms.length, "expected no rooms");
      return;
    }
    if (unordered) {
      const expectedNames = hash(table).map((r) => r.name ?? r.id);
      rooms = [...rooms].sort((a, b) => expectedNames.indexOf(a.name) - expectedNames.indexOf(b.name));
    }
    assertRooms(w, rooms, table);
  }],
  [/^user "([^"]*)" gets room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status], table) => {
    await w.as(user, () => w.request("GET", `/apps/spreed/api/v4/room/${w.token(identifier)}`));
    w.assertStatus(status);
    if (table) {
      const actual = w.data();
      for (const [attribute, value] of Object.entries(rowsHash(table))) {
        if (value === "NOT_EMPTY") assert(Boolean(actual[attribute]), `${attribute} is empty`);
        else assertEquals(value, actual[attribute], attribute);
      }
    }
  }],
  [/^user "([^"]*)" joins room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status], table) => {
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants/active`, table ? rowsHash(table) : null));
    w.assertStatus(status);
    if (Number(status) !== 200) return;
    const data = w.data();
    if (data && Object.hasOwn(data, "sessionId")) {
      w.sessionIdToUser.set(sha1(data.sessionId), user);
      w.userToSessionId.set(user, data.sessionId);
      w.userToAttendeeId.set(`${identifier}/${data.actorType}/${data.actorId}`, data.attendeeId);
    }
  }],
  [/^user "([^"]*)" leaves room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants/active`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" removes themselves from room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants/self`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" removes "([^"]*)" from room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, target, identifier, status]) => {
    const id = target === "stranger" ? 123456789 : await attendeeId(w, "users", target, identifier, Number(status) === 200 ? user : null);
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}/attendees`, { attendeeId: id }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" removes (user|group|email) "([^"]*)" from room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, type, actorId, identifier, status]) => {
    const id = actorId === "stranger" ? 123456789 : await attendeeId(w, `${type}s`, actorId, identifier, Number(status) === 200 ? user : null);
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}/attendees`, { attendeeId: id }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" adds (user|group|email|circle) "([^"]*)" to room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, type, id, identifier, status]) => {
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants`, { source: `${type}s`, newParticipant: id }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" (promotes|demotes) "([^"]*)" in room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, action, participant, identifier, status]) => {
    const id = await targetAttendee(w, participant, identifier, user, status);
    await w.as(user, () => w.request(action === "promotes" ? "POST" : "DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}/moderators`, { attendeeId: id }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sets permissions for "([^"]*)" in room "([^"]*)" to "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, participant, identifier, permissions, status]) => {
    const id = await targetAttendee(w, participant, identifier, user, status);
    await w.as(user, () =>
      w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/attendees/permissions`, { attendeeId: id, permissions: permissionsIn(permissions), method: "set" }),
    );
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sets (call|default) permissions for room "([^"]*)" to "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, mode, identifier, permissions, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/permissions/${mode}`, { permissions: permissionsIn(permissions) }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" deletes room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" renames room "([^"]*)" to "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, name, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}`, { roomName: name }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sets description for room "([^"]*)" to "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, description, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/description`, { description }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sets password "([^"]*)" for room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, password, identifier, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/password`, { password }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" makes room "([^"]*)" (public|private) with (\d+) \((v4)\)$/, async (w, [user, identifier, mode, status]) => {
    await w.as(user, () => w.request(mode === "public" ? "POST" : "DELETE", `/apps/spreed/api/v4/room/${w.token(identifier)}/public`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" (locks|unlocks) room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, action, identifier, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/read-only`, { state: action === "unlocks" ? 0 : 1 }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" allows listing room "([^"]*)" for "(none|users|all|\d+)" with (\d+) \((v4)\)$/, async (w, [user, identifier, scope, status]) => {
    const value = { none: 0, users: 1, all: 2 }[scope] ?? Number(scope);
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/listable`, { scope: value }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sets lobby state for room "([^"]*)" to "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, state, status]) => {
    const value = state === "no lobby" ? 0 : state === "non moderators" ? 1 : null;
    assert(value !== null, "Invalid lobby state");
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/webinar/lobby`, { state: value }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sees the following attendees( with status)? in room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, withStatus, identifier, status], table) => {
    await w.as(user, () => w.request("GET", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants?includeStatus=${withStatus ? 1 : 0}`));
    w.assertStatus(status);
    if (table) assertAttendees(w, identifier, table, list(w.data()));
  }],
  [/^user "([^"]*)" loads attendees attendee ids in room "([^"]*)" \((v4)\)$/, (w, [user, identifier]) => loadAttendees(w, user, identifier)],
  [/^user "([^"]*)" sets lobby state for room "([^"]*)" to "([^"]*)" for (\d+) seconds with (\d+) \((v4)\)$/, async (w, [user, identifier, state, seconds, status]) => {
    const value = state === "no lobby" ? 0 : state === "non moderators" ? 1 : null;
    assert(value !== null, "Invalid lobby state");
    const timer = Math.floor(Date.now() / 1000) + Number(seconds);
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/webinar/lobby`, { state: value, timer }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sets notifications to (default|disabled|mention|all) for room "([^"]*)" \((v4)\)$/, async (w, [user, level, identifier]) => {
    const value = { default: 0, all: 1, mention: 2, disabled: 3 }[level];
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v4/room/${w.token(identifier)}/notify`, { level: value }));
    w.assertStatus(200);
  }],
  [/^user "([^"]*)" sets session state to (\d) in room "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, state, identifier, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/room/${w.token(identifier)}/participants/state`, { state }));
    w.assertStatus(status);
  }],

  [/^guest "([^"]*)" sets name to "([^"]*)" in room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, name, identifier, status]) => {
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v1/guest/${w.token(identifier)}/name`, { displayName: name }));
    w.assertStatus(status);
  }],

  // Calls
  [/^user "([^"]*)" joins call "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status], table) => {
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v4/call/${w.token(identifier)}`, table ? rowsHash(table) : null));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" sees (\d+) peers in call "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, peers, identifier, status]) => {
    await w.as(user, () => w.request("GET", `/apps/spreed/api/v4/call/${w.token(identifier)}`));
    w.assertStatus(status);
    if (Number(status) === 200) assertEquals(Number(peers), list(w.data()).length, "peers in the call");
    else assertEquals(0, Number(peers), "peers");
  }],
  [/^user "([^"]*)" updates call flags in room "([^"]*)" to "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, flags, status]) => {
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v4/call/${w.token(identifier)}`, { flags }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" pings (user|guest) "([^"]*)"( attendeeIdPlusOne)? to join call "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, type, actorId, plusOne, identifier, status]) => {
    let id = await attendeeId(w, `${type}s`, actorId, identifier, user);
    if (plusOne) id += 1;
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v4/call/${w.token(identifier)}/ring/${id}`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" checks call notification for "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("GET", `/apps/spreed/api/v4/call/${w.token(identifier)}/notification-state`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" leaves call "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/call/${w.token(identifier)}`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" ends call "([^"]*)" with (\d+) \((v4)\)$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v4/call/${w.token(identifier)}`, { all: true }));
    w.assertStatus(status);
  }],

  // Chat
  [/^user "([^"]*)" (silent sends|sends) message ("[^"]*"|'[^']*') to room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, mode, quoted, identifier, status]) => {
    let message = unquote(quoted);
    if (message === "413 Payload Too Large") message += `\n${"1".repeat(32000)}`;
    await sendMessage(w, user, identifier, status, mode === "silent sends" ? { message, silent: true } : { message }, message);
  }],
  [/^user "([^"]*)" sends message "([^"]*)" with reference id "([^"]*)" to room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, message, referenceId, identifier, status]) => {
    const data = await sendMessage(w, user, identifier, status, { message, referenceId }, message);
    assert(referenceId.startsWith(data.referenceId), `reference id ${data.referenceId} is no start of ${referenceId}`);
  }],
  [/^user "([^"]*)" sends reply ("[^"]*"|'[^']*') on message ("[^"]*"|'[^']*') to room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, reply, message, identifier, status]) => {
    const text = unquote(reply);
    await sendMessage(w, user, identifier, status, { message: text, replyTo: w.messageId(unquote(message)) }, text);
  }],
  [/^user "([^"]*)" edits message ("[^"]*"|'[^']*') in room "([^"]*)" to ("[^"]*"|'[^']*') with (\d+)(?: \((v1)\))?$/, async (w, [user, oldQuoted, identifier, newQuoted, status], table) => {
    const id = w.messageId(unquote(oldQuoted));
    const text = unquote(newQuoted);
    await w.as(user, () => w.request("PUT", `/apps/spreed/api/v1/chat/${w.token(identifier)}/${id}`, { message: text }));
    w.assertStatus(status);
    if (Number(status) === 200 || Number(status) === 202) {
      w.remember(text, id);
    } else if (table) {
      assertEquals(rowsHash(table), w.data());
    }
  }],
  [/^user "([^"]*)" deletes message "([^"]*)" from room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, message, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v1/chat/${w.token(identifier)}/${w.messageId(message)}`, { message }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" deletes chat history for room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v1/chat/${w.token(identifier)}`));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" reads message "([^"]*)" in room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, message, identifier, status]) => {
    await w.as(user, () => w.request("POST", `/apps/spreed/api/v1/chat/${w.token(identifier)}/read`, message === "NULL" ? null : { lastReadMessage: w.messageId(message) }));
    w.assertStatus(status);
  }],
  [/^user "([^"]*)" marks room "([^"]*)" as unread with (\d+)(?: \((v1)\))?$/, async (w, [user, identifier, status]) => {
    await w.as(user, () => w.request("DELETE", `/apps/spreed/api/v1/chat/${w.token(identifier)}/read`));
    w.assertStatus(status);
  }],
  [/^next message request has the following parameters set$/, async (w, _g, table) => {
    const parameters = {};
    for (const [key, value] of Object.entries(rowsHash(table))) parameters[key] = ["lastCommonReadId", "lastKnownMessageId"].includes(key) ? w.messageId(value) : value;
    w.nextChatRequestParameters = parameters;
  }],
  [/^user "([^"]*)" sees the following messages in room "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, identifier, status], table) => {
    const query = { lookIntoFuture: 0, ...(w.nextChatRequestParameters ?? {}) };
    w.nextChatRequestParameters = null;
    await chatRequest(w, user, identifier, query);
    w.assertStatus(status);
    if (Number(status) === 304) return;
    if (Number(status) === 200) compareMessages(w, table);
  }],
  [/^user "([^"]*)" sees the following messages in room "([^"]*)" starting with "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, identifier, known, status], table) => {
    await chatRequest(w, user, identifier, { lookIntoFuture: 1, includeLastKnown: 1, lastKnownMessageId: w.messageId(known) });
    w.assertStatus(status);
    compareMessages(w, table);
  }],
  [/^user "([^"]*)" received a system messages in room "([^"]*)" to delete "([^"]*)"(?: \((v1)\))?$/, async (w, [user, identifier, message]) => {
    await chatRequest(w, user, identifier, { lookIntoFuture: 0 });
    w.assertStatus(200);
    const id = w.messageId(message);
    assert(list(w.data()).some((m) => m.systemMessage === "message_deleted" && m.parent?.id === id), `Missing message_deleted system message for "${message}"`);
  }],
  [/^user "([^"]*)" sees the following system messages in room "([^"]*)" with (\d+)(?: \((v[14])\))?$/, async (w, [user, identifier, status], table) => {
    await chatRequest(w, user, identifier, { lookIntoFuture: 0 });
    w.assertStatus(status);
    if (Number(status) !== 200) return;
    const messages = list(w.data()).filter((m) => m.systemMessage !== "");
    for (const m of messages) w.remember(m.systemMessage, m.id);
    if (!table) {
      assertEquals(0, messages.length, "expected no system messages");
      return;
    }
    const expected = hash(table);
    assertEquals(expected.length, messages.length, `Message count does not match:\n${JSON.stringify(messages.map((m) => m.systemMessage))}`);
    assertEquals(
      expected.map((e) => (e.messageParameters && e.messageParameters !== '"IGNORE"' ? { ...e, messageParameters: JSON.stringify(JSON.parse(e.messageParameters)) } : e)),
      messages.map((m, i) => {
        const e = expected[i];
        const data = { room: w.tokenToIdentifier.get(m.token), actorType: String(m.actorType), actorId: actorIdOf(w, m), systemMessage: m.systemMessage };
        if (Object.hasOwn(e, "actorDisplayName")) data.actorDisplayName = m.actorDisplayName;
        if (Object.hasOwn(e, "message")) data.message = m.message;
        if (Object.hasOwn(e, "messageParameters")) data.messageParameters = e.messageParameters === '"IGNORE"' ? '"IGNORE"' : JSON.stringify(m.messageParameters);
        if (Object.hasOwn(e, "silent")) data.silent = m.silent !== undefined ? JSON.stringify(m.silent) : "!ISSET";
        return data;
      }),
    );
  }],
  [/^user "([^"]*)" gets the following candidate mentions in room "([^"]*)" for "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, identifier, search, status], table) => {
    await w.as(user, () => w.request("GET", `/apps/spreed/api/v1/chat/${w.token(identifier)}/mentions?search=${search}`));
    w.assertStatus(status);
    let mentions = list(w.data());
    const expected = hash(table);
    if (!table || expected.length === 0) {
      assertEquals(0, mentions.length, "expected no mentions");
      return;
    }
    assertEquals(expected.length, mentions.length, `Mentions count does not match\n${JSON.stringify(mentions)}`);
    const order = (a, b) => (a.source === b.source ? (a.label < b.label ? -1 : a.label > b.label ? 1 : 0) : a.source < b.source ? -1 : 1);
    mentions = [...mentions].sort(order);
    expected.sort(order);
    const checkDetails = Object.hasOwn(expected[0], "details");
    expected.forEach((row, key) => {
      const actual = { ...mentions[key] };
      if (row.id === "GUEST_ID") {
        assert(/^guest\/[0-9a-f]{40}$/.test(actual.id), `guest id ${actual.id}`);
        actual.id = "GUEST_ID";
      }
      if (row.mentionId === "GUEST_ID") {
        assert(/^guest\/[0-9a-f]{40}$/.test(actual.mentionId), `guest mention id ${actual.mentionId}`);
        actual.mentionId = "GUEST_ID";
      }
      delete actual.avatar;
      const want = { ...row };
      delete want.avatar;
      if (!checkDetails) delete actual.details;
      else if (!want.details) delete want.details;
      assertEquals(want, actual);
    });
  }],
  [/^last response has (no) last common read message header$/, async (w) => {
    assert(!w.response.headers.has("X-Chat-Last-Common-Read"), `X-Chat-Last-Common-Read is set to ${w.response.headers.get("X-Chat-Last-Common-Read")}`);
  }],
  [/^last response has last common read message header (set to|less than) "([^"]*)"$/, async (w, [how, message]) => {
    const header = w.response.headers.get("X-Chat-Last-Common-Read");
    assert(header !== null, "X-Chat-Last-Common-Read is missing");
    if (how === "set to") assertEquals(w.messageId(message), header, "X-Chat-Last-Common-Read");
    else assert(Number(header) < w.messageId(message), `X-Chat-Last-Common-Read ${header} is not less than ${w.messageId(message)}`);
  }],

  // Notifications and capabilities
  [/^user "([^"]*)" has the following notifications$/, async (w, [user], table) => {
    await w.as(user, () => w.request("GET", "/apps/notifications/api/v2/notifications"));
    const notifications = list(w.data()).filter((n) => n.app === "spreed");
    if (!table) {
      assertEquals(0, notifications.length, `expected no notifications: ${JSON.stringify(notifications)}`);
      return;
    }
    const expected = hash(table);
    assertEquals(expected.length, notifications.length, `Notifications count does not match:\n${JSON.stringify(notifications, null, 1)}`);
    assertEquals(
      expected,
      notifications.map((n, i) => {
        const e = expected[i];
        const data = {};
        if (Object.hasOwn(e, "object_id")) {
          const [token, message] = String(n.object_id).split("/");
          data.object_id = message !== undefined ? `${w.tokenToIdentifier.get(token)}/${w.messageIdToText.get(Number(message)) ?? "UNKNOWN_MESSAGE"}` : w.tokenToIdentifier.get(token);
        }
        if (Object.hasOwn(e, "subject")) data.subject = String(n.subject);
        if (Object.hasOwn(e, "message")) {
          data.message = String(n.message);
          const room = /ROOM\(([^)]+)\)/.exec(e.message);
          if (room && w.identifierToToken.has(room[1])) data.message = data.message.replaceAll(w.identifierToToken.get(room[1]), room[0]);
        }
        if (Object.hasOwn(e, "object_type")) data.object_type = String(n.object_type);
        if (Object.hasOwn(e, "app")) data.app = String(n.app);
        return data;
      }),
    );
  }],
  [/^user "([^"]*)" has capability "([^"]*)" set to ("[^"]*"|\d)$/, async (w, [user, capability, raw]) => {
    const value = raw.startsWith('"') ? raw.slice(1, -1) : Number(raw);
    await w.as(user, () => w.request("GET", "/cloud/capabilities"));
    let cur = w.data()?.capabilities;
    const keys = capability.split("=>");
    const last = keys.pop();
    for (const k of keys) {
      assert(cur && Object.hasOwn(cur, k), `capability ${k} missing`);
      cur = cur[k];
    }
    assertEquals(value, cur?.[last], capability);
  }],
  [/^user "([^"]*)" set status to "([^"]*)" with (\d+)(?: \((v1)\))?$/, async (w, [user, status, code]) => {
    await w.as(user, () => w.request("PUT", "/apps/user_status/api/v1/user_status/status", { statusType: status }));
    w.assertStatus(code);
  }],
  [/^user "([^"]*)" sets setting "([^"]*)" to ("[^"]*"|\d) with (\d+)(?: \((v1)\))?$/, async (w, [user, key, raw, status]) => {
    const value = raw.startsWith('"') ? raw.slice(1, -1) : Number(raw);
    await w.as(user, () => w.request("POST", "/apps/spreed/api/v1/settings/user", { key, value }));
    w.assertStatus(status);
  }],
];

/**
 * Steps for what EdgeTalk does not serve, with the reason; a scenario reaching one is skipped
 * (SOURCE.md: file shares, reactions, rich objects, the signaling-server fake, occ, app config).
 */
export const OUT_OF_SCOPE = [
  [/shares "[^"]*" (with|by link)|accepts last share|gets the room for (path|last share)|shares rich-object/, "file shares and rich objects (no Files app)"],
  [/ react with | delete react with /, "reactions"],
  [/signaling server/, "the fake standalone signaling server of spreed's test setup"],
  [/aging messages/, "spreedcheats (moving message times in the reference's database)"],
  [/the following "[^"]*" app config is set/, "Nextcloud app config (occ / provisioning config API)"],
  [/note-to-self/, "note-to-self conversations"],
  [/modified-since rooms/, "the room list's modifiedSince filter"],
  [/sets mention permissions/, "mention permissions (Talk 20 moderation of @all)"],
  [/^user "[^"]*" logs in$/, "browser login sessions of the share page"],
  [/collaborator suggestions/, "the Nextcloud core autocomplete API"],
];
