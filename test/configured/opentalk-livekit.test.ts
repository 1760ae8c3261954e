/**
 * The OpenTalk web app's meeting with media: LiveKit credentials in join_success and on request,
 * the moderators' LiveKit tools, and media that ends with the meeting. In this project EdgeTalk's
 * outbound fetches reach a LiveKit stand-in (test/fixtures/fake-livekit.mjs) that checks every
 * server API call's token and grant as LiveKit does; the tokens handed to participants are verified
 * with the LiveKit server SDK.
 */
import { env } from "cloudflare:workers";
import { TokenVerifier } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { createEvent, createInvite, type Signed, signIn, timedEvent, v1 } from "../helpers/opentalk";
import { JoinSuccess, LiveKitCredentials } from "../helpers/opentalk-frames";
import { SignalingClient } from "../helpers/signaling";

const LIVEKIT = "https://livekit.example.test";
const verifier = new TokenVerifier(env.EDGETALK_LIVEKIT_API_KEY, env.EDGETALK_LIVEKIT_API_SECRET);

interface LkParticipant {
  identity: string;
  permission: { canPublishSources: string[] };
  tracks: { sid: string; source: string; muted: boolean }[];
}

async function livekitState(): Promise<{ rooms: Record<string, LkParticipant[]>; deleted: string[] }> {
  return (await (await fetch(`${LIVEKIT}/__livekit/state`)).json()) as never;
}

/** A client connects to LiveKit with its token, as the web app's LiveKit SDK does. */
async function connectMedia(token: string, tracks = ["microphone", "camera"]): Promise<LkParticipant> {
  const res = await fetch(`${LIVEKIT}/__livekit/connect`, { method: "POST", body: JSON.stringify({ token, tracks }) });
  expect(res.status).toBe(200);
  return (await res.json()) as LkParticipant;
}

async function joinAs(client: SignalingClient, name: string) {
  client.send("control", { action: "join", display_name: name });
  const parsed = JoinSuccess.safeParse((await client.next("control", "join_success")).payload);
  expect(parsed.error).toBeUndefined();
  return parsed.data as NonNullable<typeof parsed.data>;
}

async function start(user: Signed | null, roomId: string, json: Record<string, unknown>) {
  const res = await v1("POST", `/v1/rooms/${roomId}/${user ? "start" : "start_invited"}`, { token: user?.token, json });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return SignalingClient.connect(res.body.ticket);
}

describe("the OpenTalk web app's meeting with a LiveKit server", () => {
  it("start → join → credentials by role → force_mute, microphone restrictions, popout → moderator tools → DELETE /v1/events/{id}", async () => {
    const owner = await signIn("lk-host", { displayName: "Lina Host" });
    const bob = await signIn("lk-bob");
    const ev = await createEvent(owner, { ...timedEvent("2031-02-03T09:00:00Z"), title: "Media check" });
    const roomId = ev.room.id as string;
    expect((await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: bob.id } })).status).toBe(201);
    const code = await createInvite(owner, roomId);

    // The web app's own bodies: every optional field sent as null.
    const o = await start(owner, roomId, { breakout_room: null, resumption: null });
    const b = await start(bob, roomId, { breakout_room: null, resumption: null });
    const g = await start(null, roomId, { invite_code: code, password: null, breakout_room: null, resumption: null });
    try {
      const oj = await joinAs(o, "Lina");
      const bj = await joinAs(b, "Bob");
      const gj = await joinAs(g, "Gast");
      expect(oj.event_info).toEqual({ id: ev.id, room_id: roomId, title: "Media check", is_adhoc: false });
      expect(oj.tariff.modules).toHaveProperty("livekit");

      // Credentials: the room named after the OpenTalk room, the public address, a token that
      // verifies with the SDK and whose grant follows the role.
      for (const [joined, role] of [[oj, "moderator"], [bj, "user"], [gj, "guest"]] as const) {
        expect(joined.role).toBe(role);
        expect(joined.livekit).toMatchObject({ room: roomId, public_url: "wss://livekit.example.test", microphone_restriction_state: { type: "disabled" } });
        expect(joined.livekit).not.toHaveProperty("service_url");
        const claims = await verifier.verify(joined.livekit?.token as string);
        expect(claims.sub).toBe(joined.id);
        expect(claims.video).toEqual({
          roomJoin: true,
          room: roomId,
          canPublish: true,
          canSubscribe: true,
          canPublishData: false,
          canPublishSources: ["camera", "microphone", "screen_share", "screen_share_audio"],
          hidden: false,
        });
        expect((claims.exp as number) - (claims.nbf as number)).toBe(32);
      }
      const lkOwner = await connectMedia(oj.livekit?.token as string);
      const lkBob = await connectMedia(bj.livekit?.token as string);
      await connectMedia(gj.livekit?.token as string);
      expect(lkOwner.identity).toBe(oj.id);

      // Only moderators use the tools.
      g.send("livekit", { action: "force_mute", participants: [oj.id] });
      expect((await g.next("livekit", "error")).payload).toEqual({ message: "error", error: "insufficient_permissions" });
      b.send("livekit", { action: "enable_microphone_restrictions", unrestricted_participants: [] });
      expect((await b.next("livekit", "error")).payload.error).toBe("insufficient_permissions");
      g.send("livekit", { action: "force_mute", participants: ["not-a-uuid"] });
      expect((await g.next("control", "error")).payload.error).toBe("invalid_json");

      // force_mute mutes the microphone track in LiveKit and tells the target who did it.
      o.send("livekit", { action: "force_mute", participants: [bj.id] });
      expect((await b.next("livekit", "force_muted")).payload).toEqual({ message: "force_muted", moderator: oj.id });
      const bobMic = (await livekitState()).rooms[roomId]?.find((p) => p.identity === bj.id)?.tracks.find((t) => t.source === "MICROPHONE");
      expect(bobMic).toMatchObject({ sid: lkBob.tracks.find((t) => t.source === "MICROPHONE")?.sid, muted: true });

      // Microphone restrictions: everyone hears it; the guest loses the microphone at once (and in
      // new tokens), Bob is unrestricted, moderators are never restricted.
      o.send("livekit", { action: "enable_microphone_restrictions", unrestricted_participants: [bj.id] });
      for (const c of [o, b, g]) {
        expect((await c.next("livekit", "microphone_restrictions_enabled")).payload).toEqual({ message: "microphone_restrictions_enabled", unrestricted_participants: [bj.id] });
      }
      const restricted = (await livekitState()).rooms[roomId] ?? [];
      expect(restricted.find((p) => p.identity === gj.id)?.permission.canPublishSources).toEqual(["CAMERA", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO"]);
      expect(restricted.find((p) => p.identity === gj.id)?.tracks.map((t) => t.source)).toEqual(["CAMERA"]);
      expect(restricted.find((p) => p.identity === bj.id)?.permission.canPublishSources).toContain("MICROPHONE");
      g.send("livekit", { action: "create_new_access_token" });
      const { message: _message, ...renewed } = (await g.next("livekit", "credentials")).payload;
      expect(LiveKitCredentials.parse(renewed)).toMatchObject({ room: roomId, public_url: "wss://livekit.example.test" });
      expect((await verifier.verify(renewed.token)).video?.canPublishSources).toEqual(["camera", "screen_share", "screen_share_audio"]);
      b.send("livekit", { action: "create_new_access_token" });
      expect((await verifier.verify((await b.next("livekit", "credentials")).payload.token)).video?.canPublishSources).toContain("microphone");
      // A role granted or revoked changes what LiveKit lets the participant publish at once.
      const guestSources = async () => (await livekitState()).rooms[roomId]?.find((p) => p.identity === gj.id)?.permission.canPublishSources;
      o.send("control", { action: "grant_moderator_role", target: gj.id });
      await o.next("control", "moderator_role_granted");
      await expect.poll(guestSources).toContain("MICROPHONE");
      o.send("control", { action: "revoke_moderator_role", target: gj.id });
      await o.next("control", "moderator_role_revoked");
      await expect.poll(guestSources).not.toContain("MICROPHONE");

      // A participant joining now learns the restriction in join_success.
      const late = await start(owner, roomId, {});
      try {
        expect((await joinAs(late, "Lina again")).livekit?.microphone_restriction_state).toEqual({ type: "enabled", unrestricted_participants: [bj.id] });
      } finally {
        late.close();
      }
      o.send("livekit", { action: "disable_microphone_restrictions" });
      for (const c of [o, b, g]) expect((await c.next("livekit", "microphone_restrictions_disabled")).payload).toEqual({ message: "microphone_restrictions_disabled" });
      expect((await livekitState()).rooms[roomId]?.find((p) => p.identity === gj.id)?.permission.canPublishSources).toContain("MICROPHONE");

      // A popout stream: a hidden, subscribe-only viewer of the same room, for anyone in the meeting.
      g.send("livekit", { action: "request_popout_stream_access_token" });
      const popout = await verifier.verify((await g.next("livekit", "popout_stream_access_token")).payload.token);
      expect(popout.sub).toMatch(new RegExp(`^${gj.id}-popout-`));
      expect(popout.video).toEqual({ roomJoin: true, room: roomId, canPublish: false, canSubscribe: true, canPublishData: false, canPublishSources: [], hidden: true });

      // Moderator tools reach the others.
      b.send("control", { action: "raise_hand" });
      await o.next("control", "update", (f) => f.payload.id === bj.id && f.payload.control.hand_is_up === true);
      o.send("moderation", { action: "reset_raised_hands" });
      expect((await b.next("moderation", "raised_hand_reset_by_moderator")).payload).toEqual({ message: "raised_hand_reset_by_moderator", issued_by: oj.id });
      o.send("moderation", { action: "change_display_name", target: gj.id, new_name: "Gina" });
      for (const c of [o, b, g]) expect((await c.next("moderation", "display_name_changed")).payload).toMatchObject({ target: gj.id, new_name: "Gina" });

      // Sent to the waiting room: the guest's media connection ends with the meeting membership.
      o.send("moderation", { action: "send_to_waiting_room", target: gj.id });
      await g.next("moderation", "sent_to_waiting_room");
      expect((await b.next("control", "left", (f) => f.payload.id === gj.id)).payload.reason).toBe("sent_to_waiting_room");
      const identities = async () => ((await livekitState()).rooms[roomId] ?? []).map((p) => p.identity);
      await expect.poll(identities).not.toContain(gj.id);
      expect(await identities()).toContain(bj.id);
      // Back in the waiting room the livekit module is not there for them: the frame is ignored.
      expect(await g.errorsFor("livekit", { action: "create_new_access_token" })).toEqual([]);

      // Closing the meeting: DELETE /v1/events/{id} tells every socket, closes it, and the LiveKit room goes.
      expect((await v1("DELETE", `/v1/events/${ev.id}`, { token: owner.token })).status).toBe(204);
      for (const c of [o, b, g]) {
        await c.next("control", "room_deleted");
        expect((await c.closed).code).toBe(1000);
      }
      await expect.poll(async () => (await livekitState()).deleted).toContain(roomId);
      expect((await livekitState()).rooms).not.toHaveProperty(roomId);
    } finally {
      for (const c of [o, b, g]) c.close();
    }
  });
});
