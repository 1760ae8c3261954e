/**
 * Just enough of an OpenTalk client to drive EdgeTalk's signaling from the load generator: a
 * bearer token (password grant of the built-in issuer), rooms, invite codes, tickets
 * (POST /v1/rooms/{id}/start for the owner, /start_invited for guests) and signaling WebSockets
 * (GET /signaling, Sec-WebSocket-Protocol "ticket#<ticket>, opentalk-signaling-json-v1.0").
 */
import WebSocket from "ws";
import { createUser } from "./ocs.mjs";

export const PROTOCOL = "opentalk-signaling-json-v1.0";

export class OpenTalkUser {
  /** `renew` signs in again (a fresh access token) when the current one is about to expire. */
  constructor(http, token, expiresAt = Number.POSITIVE_INFINITY, renew = null) {
    this.http = http;
    this.token = token;
    this.expiresAt = expiresAt;
    this.renew = renew;
  }

  /** Creates a user through the Nextcloud provisioning API and signs them in (password grant). */
  static async create(ctx, userid, password) {
    await createUser(ctx.admin, userid, password);
    return OpenTalkUser.signIn(ctx, userid, password);
  }

  /**
   * Signs an existing user in (password grant of the built-in issuer). Access tokens live
   * `expires_in` seconds (5 minutes by default), less than a full run: the user signs in again
   * before the token runs out, as the web app refreshes it.
   */
  static async signIn(ctx, userid, password) {
    const grant = async () => {
      const res = await ctx.http.edgetalk.json("POST", "/oauth/token", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "password", username: userid, password }).toString(),
      });
      return { token: res.data.access_token, expiresAt: Date.now() + (res.data.expires_in - 30) * 1000 };
    };
    const first = await grant();
    return new OpenTalkUser(ctx.http.edgetalk, first.token, first.expiresAt, grant);
  }

  async bearer() {
    if (this.renew && Date.now() >= this.expiresAt) ({ token: this.token, expiresAt: this.expiresAt } = await this.renew());
    return this.token;
  }

  async v1(method, path, json, expect = [200, 201]) {
    const res = await this.http.json(method, path, {
      headers: { authorization: `Bearer ${await this.bearer()}`, ...(method === "GET" ? {} : { "content-type": "application/json" }) },
      body: method === "GET" ? undefined : JSON.stringify(json ?? {}),
      expect,
    });
    return res.data;
  }

  /** A room without password or waiting room, and an invite code for guests. */
  async roomWithInvite() {
    const room = await this.v1("POST", "/v1/rooms", {});
    const invite = await this.v1("POST", `/v1/rooms/${room.id}/invites`, {});
    return { roomId: room.id, inviteCode: invite.invite_code };
  }

  async ticket(roomId) {
    return (await this.v1("POST", `/v1/rooms/${roomId}/start`, {})).ticket;
  }
}

export async function guestTicket(http, roomId, inviteCode) {
  const res = await http.json("POST", `/v1/rooms/${roomId}/start_invited`, {
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ invite_code: inviteCode }),
  });
  return res.data.ticket;
}

/** Opens a WebSocket; resolves once it is open. `handler(data, socket)` gets every message. */
export function openSocket(url, protocols) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    socket.onmessage = null;
    socket.handler = () => {};
    socket.on("message", (data) => socket.handler(data, socket));
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) => reject(new Error(`WebSocket upgrade answered ${res.statusCode}`)));
  });
}

/** A signaling socket for a ticket. */
export function signalingSocket(origin, ticket) {
  return openSocket(`${origin.replace(/^http/, "ws")}/signaling`, [`ticket#${ticket}`, PROTOCOL]);
}

export const frame = (namespace, payload) => JSON.stringify({ namespace, payload });

/** Sends `join` and resolves with the join_success payload. */
export function joinMeeting(socket, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no join_success within 30 s")), 30_000);
    socket.handler = (data) => {
      if (!data.includes("join_success")) return;
      clearTimeout(timer);
      socket.handler = () => {};
      resolve(JSON.parse(data.toString()).payload);
    };
    socket.send(frame("control", { action: "join", display_name: name }));
  });
}

/** Closes sockets and waits until they are closed (or 5 s passed). */
export async function closeAll(sockets) {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise((resolve) => {
          if (s.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            s.terminate();
            resolve();
          }, 5_000);
          s.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          s.close(1000, "bench done");
        }),
    ),
  );
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
