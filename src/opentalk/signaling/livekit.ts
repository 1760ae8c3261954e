/**
 * OpenTalk's `livekit` module in the meeting: all audio and video of the web app goes through a
 * LiveKit server, and this control plane hands out its credentials and drives its server API, as
 * the reference controller's LiveKit module does (upstream `opentalk-types-signaling-livekit`).
 *
 * - `join_success.livekit`: `{room, token, public_url, service_url?, microphone_restriction_state}`;
 *   the LiveKit room is created on demand and named after the OpenTalk room.
 * - Commands: `create_new_access_token` (→ `credentials`), `request_popout_stream_access_token`
 *   (→ `popout_stream_access_token`, subscribe-only and hidden), and for moderators `force_mute`
 *   (→ `force_muted` to each target), `enable/disable_microphone_restrictions` (→ everyone), and
 *   `grant/revoke_screen_share_permission`.
 * - Tokens: the participant id as identity, 32 seconds to connect, publish sources by role: the
 *   microphone only when restrictions are off or the participant is unrestricted, screen share only
 *   when it needs no permission or was granted. Moderators are never restricted.
 * - Leaving the meeting (quit, kicked, sent to the waiting room, the meeting's end) removes the
 *   participant's identities from the LiveKit room, so media ends with the meeting membership; the
 *   last one out, or the room's deletion, deletes the LiveKit room.
 *
 * Without a configured server every command, and the join, answers `error: livekit_unavailable`
 * (the rest of the meeting works); so does a LiveKit server that cannot be reached.
 */
import { AccessToken, type ParticipantInfo, RoomServiceClient, TrackSource, TwirpError, type VideoGrant } from "livekit-server-sdk";
import { z } from "zod";
import type { LiveKitSettings } from "../../lib/config";
import { frame } from "./frames";
import { type Meeting, type Participant, writeMeeting } from "./meeting";

/** How long a token may be used to connect (the reference's ACCESS_TOKEN_TTL). */
export const ACCESS_TOKEN_TTL_SECONDS = 32;
/** A LiveKit server API call that takes longer counts as the server being unavailable. */
const API_TIMEOUT_SECONDS = 5;

const MEDIA_SOURCES = [TrackSource.CAMERA, TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE, TrackSource.SCREEN_SHARE_AUDIO] as const;
const SCREEN_SOURCES: readonly TrackSource[] = [TrackSource.SCREEN_SHARE, TrackSource.SCREEN_SHARE_AUDIO];

const Participants = z.array(z.uuid()).max(1000);

export const LiveKitCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("create_new_access_token") }),
  z.object({ action: z.literal("request_popout_stream_access_token") }),
  z.object({ action: z.literal("force_mute"), participants: Participants }),
  z.object({ action: z.literal("grant_screen_share_permission"), participants: Participants }),
  z.object({ action: z.literal("revoke_screen_share_permission"), participants: Participants }),
  z.object({ action: z.literal("enable_microphone_restrictions"), unrestricted_participants: Participants }),
  z.object({ action: z.literal("disable_microphone_restrictions") }),
]);
export type LiveKitCommand = z.infer<typeof LiveKitCommand>;

export type MicrophoneRestrictionState = { type: "disabled" } | { type: "enabled"; unrestricted_participants: string[] };

export interface Credentials {
  room: string;
  token: string;
  public_url: string;
  service_url?: string;
}

/** `join_success.livekit`. */
export type LiveKitState = Credentials & { microphone_restriction_state: MicrophoneRestrictionState };

type LiveKitError = "livekit_unavailable" | "insufficient_permissions";

/** Meeting settings (ot_settings) this module keeps; they go with the meeting's end. */
const MIC_RESTRICTION = "livekit_unrestricted";
const SCREEN_GRANTED = "livekit_screen_share_granted";

/** A Twirp `not_found` from LiveKit's server API. */
function notFound(err: unknown): boolean {
  return err instanceof TwirpError && err.status === 404;
}

export class MeetingLiveKit {
  private readonly client: RoomServiceClient | null;

  constructor(
    private readonly meeting: Meeting,
    private readonly settings: LiveKitSettings | null,
  ) {
    this.client = settings ? new RoomServiceClient(settings.url, settings.apiKey, settings.apiSecret, { requestTimeout: API_TIMEOUT_SECONDS }) : null;
  }

  /**
   * The module's part of join_success, or null when LiveKit is unavailable (the participant is
   * then told so, after join_success, and the meeting goes on without media).
   */
  async state(roomId: string, me: Participant): Promise<LiveKitState | null> {
    if (!roomId) return null;
    const credentials = await this.credentials(roomId, me);
    return credentials ? { ...credentials, microphone_restriction_state: this.microphoneRestriction() } : null;
  }

  /** Tells a participant who got no credentials in join_success why. */
  unavailable(participantId: string): void {
    this.meeting.send(participantId, "livekit", { message: "error", error: "livekit_unavailable" });
  }

  async command(ws: WebSocket, self: Participant, roomId: string, command: LiveKitCommand): Promise<void> {
    if (!this.client || !this.settings) return this.error(ws, "livekit_unavailable");
    switch (command.action) {
      case "create_new_access_token": {
        const credentials = await this.credentials(roomId, self);
        if (!credentials) return this.error(ws, "livekit_unavailable");
        ws.send(frame("livekit", { message: "credentials", ...credentials }));
        return;
      }
      case "request_popout_stream_access_token": {
        // A second, hidden viewer of the same room for a popped-out stream: it may only subscribe.
        const identity = `${self.id}-popout-${crypto.randomUUID().slice(0, 8)}`;
        const token = await this.token(identity, { roomJoin: true, room: roomId, canPublish: false, canSubscribe: true, canPublishData: false, canPublishSources: [], hidden: true });
        ws.send(frame("livekit", { message: "popout_stream_access_token", token }));
        return;
      }
    }
    if (self.role !== "moderator") return this.error(ws, "insufficient_permissions");
    switch (command.action) {
      case "force_mute":
        return this.serverApi(ws, () => this.forceMute(roomId, self, command.participants));
      case "grant_screen_share_permission":
      case "revoke_screen_share_permission": {
        const grant = command.action === "grant_screen_share_permission";
        const granted = new Set(this.screenShareGranted());
        for (const id of command.participants) grant ? granted.add(id) : granted.delete(id);
        writeMeeting(this.meeting.sql, "INSERT OR REPLACE INTO ot_settings (key, value) VALUES (?, ?)", SCREEN_GRANTED, JSON.stringify([...granted]));
        return this.serverApi(ws, () => this.updatePermissions(roomId, new Set(command.participants)));
      }
      case "enable_microphone_restrictions": {
        // Stored first (new tokens follow it), applied to those connected, then announced.
        const unrestricted = [...new Set(command.unrestricted_participants)];
        writeMeeting(this.meeting.sql, "INSERT OR REPLACE INTO ot_settings (key, value) VALUES (?, ?)", MIC_RESTRICTION, JSON.stringify(unrestricted));
        await this.serverApi(ws, () => this.updatePermissions(roomId, null));
        this.meeting.broadcast("livekit", { message: "microphone_restrictions_enabled", unrestricted_participants: unrestricted }, ["joined"]);
        return;
      }
      case "disable_microphone_restrictions":
        writeMeeting(this.meeting.sql, "DELETE FROM ot_settings WHERE key = ?", MIC_RESTRICTION);
        await this.serverApi(ws, () => this.updatePermissions(roomId, null));
        this.meeting.broadcast("livekit", { message: "microphone_restrictions_disabled" }, ["joined"]);
        return;
    }
  }

  /** A call of LiveKit's server API for a moderator; when it fails, they hear that LiveKit is unavailable. */
  private async serverApi(ws: WebSocket, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      console.warn("livekit: server API", err);
      this.error(ws, "livekit_unavailable");
    }
  }

  /** A participant's role changed: what they may publish in LiveKit follows at once. */
  async roleChanged(roomId: string, participantId: string): Promise<void> {
    if (!this.client || !roomId) return;
    await this.updatePermissions(roomId, new Set([participantId])).catch((err) => console.warn("livekit: role change", err));
  }

  /** A participant left the meeting (or went to the waiting room): their media connections end. */
  async left(roomId: string, participantId: string): Promise<void> {
    if (!this.client || !roomId) return;
    try {
      for (const p of await this.client.listParticipants(roomId)) {
        if (p.identity === participantId || p.identity.startsWith(`${participantId}-popout-`)) await this.client.removeParticipant(roomId, p.identity);
      }
    } catch (err) {
      // Gone already (disconnected, or the room ended meanwhile) is what was wanted.
      if (!notFound(err)) console.warn("livekit: removing a participant", err);
    }
  }

  /** The meeting ended or the room went away: its LiveKit room goes too. */
  async ended(roomId: string): Promise<void> {
    if (!this.client || !roomId) return;
    await this.client.deleteRoom(roomId).catch((err) => {
      if (!notFound(err)) console.warn("livekit: deleting the room", err);
    });
  }

  // -------------------------------------------------------------------------------------------

  private error(ws: WebSocket, error: LiveKitError): void {
    ws.send(frame("livekit", { message: "error", error }));
  }

  private async credentials(roomId: string, me: Participant): Promise<Credentials | null> {
    if (!this.client || !this.settings) return null;
    try {
      const room = await this.client.createRoom({ name: roomId });
      const token = await this.token(me.id, {
        roomJoin: true,
        room: room.name,
        canPublish: true,
        canSubscribe: true,
        canPublishData: false,
        canPublishSources: this.sourcesFor(me),
        hidden: false,
      });
      return {
        room: room.name,
        token,
        public_url: this.settings.publicUrl,
        // Phone participants connect from the SIP bridge, next to the server: they get its address.
        ...(me.kind === "sip" ? { service_url: this.settings.url.replace(/^http/, "ws") } : {}),
      };
    } catch (err) {
      console.warn("livekit: creating the room", err);
      return null;
    }
  }

  private token(identity: string, grant: VideoGrant): Promise<string> {
    const settings = this.settings as LiveKitSettings;
    const at = new AccessToken(settings.apiKey, settings.apiSecret, { identity, name: identity, ttl: ACCESS_TOKEN_TTL_SECONDS });
    at.addGrant(grant);
    return at.toJwt();
  }

  private microphoneRestriction(): MicrophoneRestrictionState {
    const value = this.meeting.setting(MIC_RESTRICTION);
    return value === null ? { type: "disabled" } : { type: "enabled", unrestricted_participants: JSON.parse(value) as string[] };
  }

  private screenShareGranted(): string[] {
    const value = this.meeting.setting(SCREEN_GRANTED);
    return value === null ? [] : (JSON.parse(value) as string[]);
  }

  /** What a participant may publish: everything for moderators; the others as the room restricts. */
  private sourcesFor(p: Participant): TrackSource[] {
    if (p.role === "moderator") return [...MEDIA_SOURCES];
    const restriction = this.microphoneRestriction();
    const micAllowed = restriction.type === "disabled" || restriction.unrestricted_participants.includes(p.id);
    const screenAllowed = !this.settings?.screenShareRequiresPermission || this.screenShareGranted().includes(p.id);
    return MEDIA_SOURCES.filter((s) => (s === TrackSource.MICROPHONE ? micAllowed : SCREEN_SOURCES.includes(s) ? screenAllowed : true));
  }

  /**
   * Brings the publish permissions of the LiveKit room's participants (all, or the given meeting
   * participants) in line with the meeting's rules.
   */
  private async updatePermissions(roomId: string, only: Set<string> | null): Promise<void> {
    const client = this.client as RoomServiceClient;
    const connected = (await client.listParticipants(roomId)).filter((lp) => only === null || only.has(lp.identity));
    await Promise.all(
      connected.map(async (lp: ParticipantInfo) => {
        const p = this.meeting.participant(lp.identity);
        if (!p) return;
        await client.updateParticipant(roomId, lp.identity, {
          permission: { canSubscribe: true, canPublish: true, canPublishData: false, canPublishSources: this.sourcesFor(p), hidden: false, canUpdateMetadata: false },
        });
      }),
    );
  }

  /** Mutes the targets' microphone tracks and tells each target which moderator did it. */
  private async forceMute(roomId: string, self: Participant, targets: string[]): Promise<void> {
    const client = this.client as RoomServiceClient;
    for (const target of new Set(targets)) {
      let info: ParticipantInfo;
      try {
        info = await client.getParticipant(roomId, target);
      } catch {
        continue; // not connected to LiveKit: nothing to mute (as the reference skips it)
      }
      for (const track of info.tracks) {
        if (track.source === TrackSource.MICROPHONE) await client.mutePublishedTrack(roomId, target, track.sid, true);
      }
      this.meeting.send(target, "livekit", { message: "force_muted", moderator: self.id });
    }
  }
}
