/**
 * OpenTalk `GET /v1/turn` (reference §3.11): time-limited TURN credentials in the coturn REST
 * format (`static-auth-secret`) plus the STUN servers. With nothing configured the answer is a
 * 500 JSON error, as the seed says (decision D9; the reference code answers 204).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { findInvite, inviteUsable } from "../db/opentalk-rooms";
import { config } from "../lib/config";
import { type AppContext, type AppEnv, currentUser } from "../lib/context";
import { hmac, toBase64 } from "../lib/crypto";
import { OpenTalkError } from "../lib/errors";
import { bearerRequired, otRoute } from "../lib/route";

const TurnSchema = z.object({ username: z.string(), password: z.string(), ttl: z.string(), uris: z.array(z.string()) }).openapi("Turn");
const StunSchema = z.object({ uris: z.array(z.string()) }).openapi("Stun");

/** Users, or guests presenting a valid invite code as the bearer (the reference's fallback). */
async function authorised(c: AppContext): Promise<boolean> {
  if (currentUser(c)) return true;
  const match = /^bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  return !!match?.[1] && inviteUsable(await findInvite(database(c.env), match[1]));
}

/** One server with one or two configured, two distinct random ones with three or more. */
function pickServers(servers: string[]): string[] {
  if (servers.length < 3) return servers.slice(0, 1);
  const first = Math.floor(Math.random() * servers.length);
  let second = Math.floor(Math.random() * (servers.length - 1));
  if (second >= first) second += 1;
  return [servers[first] as string, servers[second] as string];
}

function turnUris(server: string): string[] {
  if (/^turns?:/.test(server)) return [server];
  return [`turn:${server}?transport=udp`, `turn:${server}?transport=tcp`];
}

/** coturn REST credentials: `<expiry>:<random>` and base64(HMAC-SHA1(secret, username)). */
export async function turnCredentials(secret: string, lifetimeSeconds: number, server: string) {
  const expires = Math.floor(Date.now() / 1000) + lifetimeSeconds;
  const random = toBase64(crypto.getRandomValues(new Uint8Array(16)));
  const username = `${expires}:turn_random_for_privacy_${random}`;
  return { username, password: toBase64(await hmac(secret, username, "SHA-1")), ttl: String(expires), uris: turnUris(server) };
}

export function registerOpenTalkTurnRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/turn",
      summary: "Get TURN servers with credentials, and STUN servers",
      tags: ["turn", "stun"],
      auth: "bearer-or-invite",
      success: { status: 200, description: "TURN and STUN entries", schema: z.array(z.union([TurnSchema, StunSchema])) },
    },
    async (c) => {
      if (!(await authorised(c))) throw bearerRequired(c);
      const cfg = config(c.env);
      const turn = cfg.turnSecret ? cfg.turnServers : [];
      if (turn.length === 0 && cfg.stunServers.length === 0) {
        throw new OpenTalkError(500, "internal_server_error", "No TURN or STUN servers are configured");
      }
      const entries: unknown[] = await Promise.all(pickServers(turn).map((s) => turnCredentials(cfg.turnSecret, cfg.turnTtl, s)));
      if (cfg.stunServers.length > 0) entries.push({ uris: cfg.stunServers.map((s) => (s.startsWith("stun:") ? s : `stun:${s}`)) });
      return c.json(entries);
    },
  );
}
