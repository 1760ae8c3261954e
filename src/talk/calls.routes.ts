/** Talk calls (seed 001): peers, join, update flags, leave, ring an attendee, SIP dial-out. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { config } from "../lib/config";
import { notifyUsers } from "../cloud/notify";
import { currentUser, type AppEnv } from "../lib/context";
import { ocsFail } from "../lib/errors";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import { DEFAULT_CALL_FLAGS, InCall, validCallFlags } from "../room/calls";
import type { Outcome } from "../room/contract";
import type { CallPeer, CallStart } from "../room/contract";
import { talkRoom, TALK_V4, unwrap } from "./context";

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
      const joined = unwrap((await r.stub.joinCall(r.caller, flags, consent)) as Outcome<CallStart>);
      // A new call is announced to the members, unless it was started silently.
      if (joined.started && !p.silent) {
        await notifyUsers(
          c,
          joined.notify.map((n) => ({
            userId: n.userUuid,
            app: "spreed",
            objectType: "call",
            objectId: r.token,
            subject: "call_started",
            parameters: { roomName: joined.roomName, callerName: currentUser(c)?.displayName ?? "", oneToOne: joined.oneToOne ? "1" : "0" },
          })),
        );
      }
      return { data: null };
    },
  );

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
      await notifyUsers(c, [
        {
          userId: target.userUuid,
          app: "spreed",
          objectType: "call",
          objectId: r.token,
          subject: "call_ring",
          parameters: { roomName: target.roomName, callerName: currentUser(c)?.displayName ?? "" },
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
