/**
 * Talk signaling (reference §7): the settings the client starts from (which signaling, hello
 * credentials, STUN, time-limited TURN credentials), the standalone signaling WebSocket of each
 * room (served by its Durable Object, src/talk/standalone/), and the internal long-poll for
 * clients that stay on it, whose waiting happens inside the room Durable Object too.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { config, type Config } from "../lib/config";
import { currentUser, type AppEnv } from "../lib/context";
import { ALNUM, hmac, randomString, toBase64 } from "../lib/crypto";
import { OcsError } from "../lib/errors";
import { ocsRoute } from "../lib/route";
import type { Outcome } from "../room/contract";
import type { CallerView } from "../room/contract";
import { RoomType } from "../room/types";
import { talkCaller, talkRoom } from "./context";
import type { SignalingPost, SignalingPull } from "./longpoll";
import { helloTicket, helloV2Token } from "./standalone/auth";
import { TALK_SIGNALING_PATH } from "./standalone/protocol";
import { roomByToken } from "./context";

/** Where a room's standalone signaling WebSocket lives (clients append `spreed`). */
export const STANDALONE_PREFIX = "/standalone-signaling";

const TAGS = ["Talk signaling"];
export const TALK_V3 = "/ocs/v2.php/apps/spreed/api/v3";
/** What a client gets when its session is gone: an empty participant list. */
const NO_USERS = [{ type: "usersInRoom", data: [] }];
/** The STUN server the reference falls back to when none is configured. */
const DEFAULT_STUN = "stun.nextcloud.com:443";

/** coturn REST API credentials: username `expiry:user`, password base64(HMAC-SHA1(secret, username)). */
export async function turnCredentials(cfg: Config, user: string, now = Date.now()) {
  if (!cfg.turnSecret || cfg.turnServers.length === 0) return [];
  const username = `${Math.floor(now / 1000) + cfg.turnTtl}:${user}`;
  const credential = toBase64(await hmac(cfg.turnSecret, username, "SHA-1"));
  return [{ urls: cfg.turnServers.flatMap((s) => [`turn:${s}?transport=udp`, `turn:${s}?transport=tcp`]), username, credential }];
}

const PostsSchema = z.array(z.object({ ev: z.literal("message"), sessionId: z.string().max(600), fn: z.string().max(1_000_000) })).max(1000);

export function registerTalkSignalingRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(
    app,
    {
      method: "get",
      path: `${TALK_V3}/signaling/settings`,
      summary: "Signaling settings (the room's signaling WebSocket or internal signaling, STUN and TURN)",
      tags: TAGS,
      auth: "public",
      params: z.object({ token: z.string().max(64).optional() }),
    },
    async (c, p) => {
      const cfg = config(c.env);
      const user = currentUser(c);
      if (p.token) {
        // A token must name a room the caller can see.
        const r = await talkRoom(c, p.token);
        const view = (await r.stub.view(r.caller)) as CallerView | null;
        if (!view || (!view.attendee && view.meta.type !== RoomType.Public)) throw new OcsError(404, []);
      }
      const userId = user?.userid ?? null;
      const ticket = await helloTicket(cfg.secret, userId);
      const stun = cfg.stunServers.length > 0 ? cfg.stunServers : [DEFAULT_STUN];
      // A conversation's signaling socket lives in its room object: the server is per token.
      const websocket = Boolean(p.token) && cfg.talkSignaling === "websocket";
      const base = cfg.publicUrl || new URL(c.req.url).origin;
      // Both hello versions' parameters, always, as the reference hands them out.
      const v2 = await helloV2Token(cfg.secret, base, user ? { id: user.userid, displayName: user.displayName } : null);
      return {
        data: {
          signalingMode: websocket ? "external" : "internal",
          userId,
          hideWarning: false,
          server: websocket ? `${base}${STANDALONE_PREFIX}/${p.token}/` : "",
          ticket,
          helloAuthParams: { "1.0": { userid: userId, ticket }, "2.0": { token: v2 } },
          // No federation: the conversation is hosted here.
          federation: null,
          stunservers: [{ urls: stun.map((s) => `stun:${s}`) }],
          turnservers: await turnCredentials(cfg, userId ?? randomString(16, ALNUM)),
          sipDialinInfo: cfg.sipBridgeSecret && cfg.sipDialinInfo ? cfg.sipDialinInfo : "",
        },
      };
    },
  );

  // The standalone signaling WebSocket of one conversation: the upgrade goes to its room object.
  app.get(`${STANDALONE_PREFIX}/:token/spreed`, async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return c.text("Expected a WebSocket upgrade", 426);
    const room = await roomByToken(c, c.req.param("token"));
    return room.stub.fetch(new Request(`https://room.internal${TALK_SIGNALING_PATH}`, { headers: { Upgrade: "websocket" } }));
  });

  ocsRoute(
    app,
    {
      method: "post",
      path: `${TALK_V3}/signaling/{token}`,
      summary: "Send internal signaling messages",
      tags: TAGS,
      auth: "public",
      // Missing or undecodable: 400 with an empty string, the reference's answer, never a field error.
      params: z.object({ messages: z.string().max(2_000_000) }),
      invalidData: "",
    },
    async (c, p, path) => {
      let posts: SignalingPost[];
      try {
        posts = PostsSchema.parse(JSON.parse(p.messages));
      } catch {
        // The reference's answer to messages it cannot decode: 400 with an empty string.
        throw new OcsError(400, "");
      }
      const r = await talkRoom(c, path.token);
      const sent = (await r.stub.sendSignaling(r.caller, posts)) as Outcome<number>;
      if (!sent.ok) throw new OcsError(404, NO_USERS);
      return { data: [] };
    },
  );

  ocsRoute(app, { method: "get", path: `${TALK_V3}/signaling/{token}`, summary: "Receive internal signaling (long-poll, up to 30 s)", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token).catch(() => {
      throw new OcsError(404, NO_USERS);
    });
    const pulled = (await r.stub.pullSignaling(await talkCaller(c), r.serial)) as Outcome<SignalingPull>;
    if (!pulled.ok) throw new OcsError(pulled.status, NO_USERS);
    const { messages, usersInRoom } = pulled.value;
    return { data: [...messages.map((data) => ({ type: "message", data })), { type: "usersInRoom", data: usersInRoom }] };
  });
}
