/** Talk calls (seed 001): peers, join, update flags, leave, ring an attendee, SIP dial-out. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { config } from "../lib/config";
import { notifyUsers } from "../cloud/notify";
import { database } from "../db/client";
import { withdrawNotifications, withdrawObjectNotifications } from "../db/notifications";
import { currentUser, type AppEnv } from "../lib/context";
import { OcsError, ocsFail } from "../lib/errors";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import { DEFAULT_CALL_FLAGS, InCall, validCallFlags } from "../room/calls";
import type { Outcome } from "../room/contract";
import type { CallPeer, CallStart } from "../room/contract";
import { refillPartners, roomByToken, talkRoom, TALK_V4, unwrap } from "./context";

const TAGS = ["Talk calls"];

/** Flags for joining or updating: 1–15 with the "in call" bit (leaving is DELETE). */
function callFlags(flags: number | undefined): number {
  const value = flags ?? DEFAULT_CALL_FLAGS;
  if (!validCallFlags(value) || (value & InCall.InCall) === 0) throw ocsFail(400, "flags");
  return value;
}

export function registerTalkCallRoutes(app: OpenAPIHono<AppEnv>) {
  const call = `${TALK_V4}/call/{token}`;

  ocsRoute(app, { method: "get", path: call, summary: "List the sessions in the call", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token);
    const peers = unwrap((await r.stub.callPeers(r.caller)) as Outcome<CallPeer[]>);
    return { data: peers.map((p) => ({ ...p, token: r.token })) };
  });

  ocsRoute(
    app,
    {
      method: "post",
      path: call,
      summary: "Join the call",
      tags: TAGS,
      auth: "public",
      params: z.object({ flags: ocsInt().optional(), silent: ocsBool().optional(), recordingConsent: ocsBool().optional() }),
    },
    async (c, p, path) => {
      const flags = callFlags(p.flags);
      const r = await talkRoom(c, path.token);
      const consent = { required: config(c.env).recordingConsent === 1, given: p.recordingConsent ?? false };
      const join = async () => (await r.stub.joinCall(r.caller, flags, consent, p.silent ?? false)) as Outcome<CallStart>;
      let outcome = await join();
      // Calling into a one-to-one room whose partner left brings them back first.
      if (await refillPartners(c, r.stub, outcome)) outcome = await join();
      const joined = unwrap(outcome);
      const user = currentUser(c);
      const db = database(c.env);
      // A new call is announced to the members, unless it was started silently; it replaces the
      // room's earlier notifications (invitations, an older call), as the reference's listener does.
      // Otherwise joining answers one's own call notification (the reference removes it).
      if (!joined.started || p.silent) {
        if (user) await withdrawNotifications(db, "call", r.token, [user.id]);
      } else {
        await Promise.all([withdrawObjectNotifications(db, "room", r.token), withdrawObjectNotifications(db, "call", r.token)]);
        await notifyUsers(
          c,
          joined.notify.map((n) => ({
            userId: n.userUuid,
            app: "spreed",
            objectType: "call",
            objectId: r.token,
            subject: "call_started",
            parameters: { roomName: joined.roomName, callerName: user?.displayName ?? "", oneToOne: joined.oneToOne ? "1" : "0", callStartTime: String(joined.startTime) },
          })),
        );
      }
      return { data: null };
    },
  );

  // What a ringing client should do with its call notification (polled while it rings): 200 keep
  // ringing, 201 show "missed call" instead, 404 dismiss; 403 without a user. No data.
  ocsRoute(app, { method: "get", path: `${call}/notification-state`, summary: "State of the call notification", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const user = currentUser(c);
    if (!user) throw new OcsError(403, null);
    let room: Awaited<ReturnType<typeof roomByToken>>;
    try {
      room = await roomByToken(c, path.token ?? "");
    } catch (err) {
      if (err instanceof OcsError && err.status === 404) throw new OcsError(404, null);
      throw err;
    }
    const state = await room.stub.callNotificationState(user.id);
    if (state === "not_found" || state === "joined") throw new OcsError(404, null);
    return { status: state === "missed" ? 201 : 200, data: null };
  });

  ocsRoute(
    app,
    { method: "put", path: call, summary: "Update the call flags", tags: TAGS, auth: "public", params: z.object({ flags: ocsInt() }) },
    async (c, p, path) => {
      const flags = callFlags(p.flags);
      const r = await talkRoom(c, path.token);
      unwrap(await r.stub.updateCallFlags(r.caller, flags));
      return { data: null };
    },
  );

  ocsRoute(
    app,
    { method: "delete", path: call, summary: "Leave the call (all=true ends it for everyone)", tags: TAGS, auth: "public", params: z.object({ all: ocsBool().optional() }) },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      unwrap(await r.stub.leaveCall(r.caller, p.all ?? false));
      return { data: null };
    },
  );

  ocsRoute(app, { method: "post", path: `${call}/ring/{attendeeId}`, summary: "Ring an attendee", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const attendeeId = Number(path.attendeeId);
    if (!Number.isSafeInteger(attendeeId)) throw ocsFail(400, "attendeeId");
    const r = await talkRoom(c, path.token);
    const target = unwrap(await r.stub.ringTarget(r.caller, attendeeId));
    if (target.userUuid) {
      // Ringing again is the call notification anew (the reference's subject `call`), replacing theirs.
      await withdrawNotifications(database(c.env), "call", r.token, [target.userUuid]);
      await notifyUsers(c, [
        {
          userId: target.userUuid,
          app: "spreed",
          objectType: "call",
          objectId: r.token,
          subject: "call_started",
          parameters: { roomName: target.roomName, callerName: currentUser(c)?.displayName ?? "", oneToOne: target.oneToOne ? "1" : "0", callStartTime: String(target.startTime) },
        },
      ]);
    }
    return { data: null };
  });

  ocsRoute(app, { method: "post", path: `${call}/dialout/{attendeeId}`, summary: "Ask the SIP bridge to dial out", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const attendeeId = Number(path.attendeeId);
    if (!Number.isSafeInteger(attendeeId)) throw ocsFail(400, "attendeeId");
    const r = await talkRoom(c, path.token);
    unwrap(await r.stub.dialoutCheck(r.caller));
    // EdgeTalk has no SIP dial-out bridge: a caller who may dial out learns that it is not available.
    throw ocsFail(501, "sip");
  });
}
