/**
 * The rulebook as a matrix (issue 11): the same person asking for the same thing through Talk and
 * through OpenTalk gets the same answer, in every kind of room. For each room kind (a room made by
 * OpenTalk for an event, a private Talk group room, a public Talk room) and each role, three
 * operations that both dialects offer — change the password, delete the room, start the
 * call/meeting — are tried through both; both must allow or both refuse, and a refusal must leave
 * D1 and the room's storage exactly as they were. Allowed deletions run on rooms of their own.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CookieJar, type Credentials, ocs } from "../helpers/http";
import { createEvent, createInvite, type Signed, signIn, signInAdmin, v1 } from "../helpers/opentalk";
import { V4 } from "../helpers/talk";
import { type Snapshot, snapshot } from "./state";

/**
 * D1 and the room's storage, without the activity counts: rooms publish those (and bump their
 * version) by their own alarm a few seconds after sessions come and go, whatever request is made.
 */
async function state(roomId: string): Promise<Snapshot> {
  const out = await snapshot([roomId]);
  for (const key of Object.keys(out)) {
    if (key !== "d1.rooms" && !key.endsWith(".meta")) continue;
    out[key] = (out[key] ?? []).map((row) => {
      const { active_users: _u, active_guests: _g, version: _v, ...rest } = JSON.parse(row) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
  }
  return out;
}

type Kind = "opentalk" | "talk-group" | "talk-public";
type Role = "owner" | "moderator" | "user" | "self-joined" | "guest" | "stranger" | "admin" | "anonymous";
const ROLES: Role[] = ["owner", "moderator", "user", "self-joined", "guest", "stranger", "admin", "anonymous"];

interface Fixture {
  kind: Kind;
  id: string;
  token: string;
  code: string | null;
  people: Partial<Record<Role, Signed>>;
}

const creds = (u: Signed): Credentials => ({ user: u.login, password: u.password });

async function idOf(token: string): Promise<string> {
  return ((await env.DB.prepare("SELECT id FROM rooms WHERE token = ?").bind(token).first<{ id: string }>()) as { id: string }).id;
}

async function tokenOf(id: string): Promise<string> {
  return ((await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(id).first<{ token: string }>()) as { token: string }).token;
}

type People = Record<"owner" | "moderator" | "user" | "selfJoined" | "stranger" | "admin", Signed>;

async function everyone(): Promise<People> {
  const [owner, moderator, user, selfJoined, stranger] = await Promise.all(["mxown", "mxmod", "mxusr", "mxslf", "mxstr"].map((p) => signIn(p)));
  return { owner, moderator, user, selfJoined, stranger, admin: await signInAdmin() };
}

/** A room of the kind: the owner's, with a moderator, a member and (public rooms) a self-joined user. */
async function fixture(kind: Kind, p: People): Promise<Fixture> {
  const { owner, moderator, user, selfJoined, stranger, admin } = p;
  const people: Fixture["people"] = { owner, moderator, user, stranger, admin };
  if (kind === "opentalk") {
    const ev = await createEvent(owner, { title: "Matrix", description: "", is_time_independent: true });
    for (const [who, role] of [[moderator, "moderator"], [user, "user"]] as const) {
      expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { invitee: who.id, role } })).status).toBe(201);
    }
    const id = ev.room.id as string;
    return { kind, id, token: await tokenOf(id), code: await createInvite(owner, id), people };
  }
  const created = await ocs("POST", `${V4}/room`, { auth: creds(owner), body: { roomType: kind === "talk-public" ? 3 : 2, roomName: "Matrix" } });
  const token = created.data.token as string;
  for (const who of [moderator, user]) expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: creds(owner), body: { newParticipant: who.login } })).status).toBe(200);
  const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: creds(owner) });
  const modId = (list.data as { actorId: string; attendeeId: number }[]).find((a) => a.actorId === moderator.login)?.attendeeId;
  expect((await ocs("POST", `${V4}/room/${token}/moderators`, { auth: creds(owner), body: { attendeeId: modId } })).status).toBe(200);
  if (kind === "talk-public") {
    // Self-joined by the public link, keeping a session (so they stay an attendee).
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: creds(selfJoined), jar: new CookieJar() })).status).toBe(200);
    people["self-joined"] = selfJoined;
  }
  return { kind, id: await idOf(token), token, code: null, people };
}

type Answer = "allowed" | "refused";
const answer = (status: number): Answer => {
  expect(status, "never a 5xx").toBeLessThan(500);
  return status < 300 ? "allowed" : "refused";
};

/** Talk: the person's credentials (guests: a cookie session of their own). */
async function talk(f: Fixture, role: Role, method: string, path: string, body?: Record<string, unknown>, jar = new CookieJar()) {
  const person = f.people[role];
  if (role === "guest") return ocs(method, path, { jar, body });
  if (role === "anonymous" || !person) return ocs(method, path, { body });
  return ocs(method, path, { auth: creds(person), jar, body });
}

/** OpenTalk: bearer tokens; guests hold the room's invite code where it has one. */
function openTalk(f: Fixture, role: Role, method: string, path: string, json?: unknown) {
  const person = f.people[role];
  if (role === "guest") return v1(method, path, { ...(f.code ? { auth: `InviteCode ${f.code}` } : {}), json });
  return v1(method, path, { token: role === "anonymous" || !person ? null : person.token, json });
}

async function startBoth(f: Fixture, role: Role): Promise<[Answer, Answer]> {
  const jar = new CookieJar();
  const joined = await talk(f, role, "POST", `${V4}/room/${f.token}/participants/active`, undefined, jar);
  let talkAnswer: Answer = answer(joined.status);
  if (talkAnswer === "allowed") {
    talkAnswer = answer((await talk(f, role, "POST", `${V4}/call/${f.token}`, { flags: 3 }, jar)).status);
    await talk(f, role, "DELETE", `${V4}/call/${f.token}`, undefined, jar);
    await talk(f, role, "DELETE", `${V4}/room/${f.token}/participants/active`, undefined, jar);
  }
  const started =
    role === "guest" && f.code
      ? await v1("POST", `/v1/rooms/${f.id}/start_invited`, { json: { invite_code: f.code } })
      : await openTalk(f, role, "POST", `/v1/rooms/${f.id}/start`, {});
  return [talkAnswer, answer(started.status)];
}

/**
 * Where the dialects cannot agree by construction: a Talk guest (or an anonymous caller, who is a
 * guest to Talk) comes by a public link, an OpenTalk guest by an invite code; they are different
 * people. Self-joining exists where a room takes it.
 */
function comparable(f: Fixture, role: Role, op: "start" | "settings"): boolean {
  if (role === "self-joined") return f.kind === "talk-public";
  if (op === "start" && (role === "guest" || role === "anonymous")) return false;
  return true;
}

describe("one rulebook: the same person, the same answer in both dialects", () => {
  for (const kind of ["opentalk", "talk-group", "talk-public"] as Kind[]) {
    it(`${kind}: starting the call, the password and deletion agree across the dialects; refusals change nothing`, { timeout: 180_000 }, async () => {
      const p = await everyone();
      const f = await fixture(kind, p);
      const mismatches: string[] = [];
      const deleters: Role[] = [];
      for (const role of ROLES) {
        if (comparable(f, role, "start")) {
          const [ts, os] = await startBoth(f, role);
          if (ts !== os) mismatches.push(`${role} start: Talk ${ts}, OpenTalk ${os}`);
        }
      }
      for (const role of ROLES) {
        if (!comparable(f, role, "settings")) continue;
        // The password: Talk's PUT …/password and OpenTalk's PATCH {password}.
        const before = await state(f.id);
        const t = answer((await talk(f, role, "PUT", `${V4}/room/${f.token}/password`, { password: `pw-${role}-123456` })).status);
        const o = answer((await openTalk(f, role, "PATCH", `/v1/rooms/${f.id}`, { password: `pw-${role}-654321` })).status);
        if (t !== o) mismatches.push(`${role} password: Talk ${t}, OpenTalk ${o}`);
        if (t === "refused" && o === "refused") expect(await state(f.id), `${role}: a refused password change changes nothing`).toEqual(before);
      }
      for (const role of ROLES) {
        if (!comparable(f, role, "settings")) continue;
        // Deletion: a refused one is tried in both on the shared room; an allowed one on rooms of its own.
        const own = await fixture(kind, p);
        const td = answer((await talk(own, role, "DELETE", `${V4}/room/${own.token}`)).status);
        const target = td === "allowed" ? await fixture(kind, p) : own;
        const before = await state(target.id);
        const od = answer((await openTalk(target, role, "DELETE", `/v1/rooms/${target.id}`)).status);
        if (td !== od) mismatches.push(`${role} delete: Talk ${td}, OpenTalk ${od}`);
        if (td === "allowed") deleters.push(role);
        else if (od === "refused") expect(await state(target.id), `${role}: a refused deletion changes nothing`).toEqual(before);
      }
      expect(mismatches).toEqual([]);
      expect(deleters.sort()).toEqual((kind === "opentalk" ? ["admin", "owner"] : ["moderator", "owner"]).sort());
    });
  }
});
