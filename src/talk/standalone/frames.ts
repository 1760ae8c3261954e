/**
 * The wire format of the standalone signaling API (strukturag/nextcloud-spreed-signaling,
 * docs/standalone-signaling-api-v1.md) as EdgeTalk's room objects speak it to Talk clients:
 * client requests validated with zod, server frames built in one place.
 */
import { z } from "zod";
import type { RoomMeta } from "../../room/types";

/**
 * What the welcome and hello answers offer. No `mcu`: clients then call peer to peer, as with
 * internal signaling. `audio-video-permissions` and `incall-all` are what Talk's web client checks
 * for before warning that the signaling server is outdated; `hello-v2` makes it use the JWT.
 */
export const SERVER_FEATURES = ["audio-video-permissions", "incall-all", "hello-v2", "welcome", "join-features"];

const Id = z.string().max(64).optional();

const HelloV1Params = z.object({ userid: z.string().max(64).nullish(), ticket: z.string().min(1).max(512) });
const HelloV2Params = z.object({ token: z.string().min(1).max(4096) });

export const Hello = z.object({
  version: z.string().max(16),
  features: z.array(z.string().max(64)).max(64).optional(),
  resumeid: z.string().max(128).optional(),
  auth: z
    .object({
      type: z.string().max(32).optional(),
      url: z.string().max(2048).optional(),
      params: z.record(z.string(), z.unknown()),
    })
    .optional(),
});
export type Hello = z.infer<typeof Hello>;

export function helloParams(version: "1.0", params: unknown): z.infer<typeof HelloV1Params> | null;
export function helloParams(version: "2.0", params: unknown): z.infer<typeof HelloV2Params> | null;
export function helloParams(version: "1.0" | "2.0", params: unknown) {
  const parsed = (version === "1.0" ? HelloV1Params : HelloV2Params).safeParse(params);
  return parsed.success ? parsed.data : null;
}

const RoomRequest = z.object({ roomid: z.string().max(64), sessionid: z.string().max(512).optional() });

const Recipient = z.discriminatedUnion("type", [
  z.object({ type: z.literal("session"), sessionid: z.string().min(1).max(512) }),
  z.object({ type: z.literal("user"), userid: z.string().min(1).max(64) }),
  z.object({ type: z.literal("room") }),
  z.object({ type: z.literal("call") }),
]);
export type Recipient = z.infer<typeof Recipient>;

const Routed = z.object({ recipient: Recipient, data: z.unknown() });
export type Routed = z.infer<typeof Routed>;

/** Every request a client may send, by type (unknown types are ignored, as the reference does). */
export const ClientMessage = z.discriminatedUnion("type", [
  z.object({ id: Id, type: z.literal("hello"), hello: Hello }),
  z.object({ id: Id, type: z.literal("room"), room: RoomRequest }),
  z.object({ id: Id, type: z.literal("message"), message: Routed }),
  z.object({ id: Id, type: z.literal("control"), control: Routed }),
  z.object({ id: Id, type: z.literal("bye"), bye: z.object({}).loose().optional() }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Types the reference accepts but EdgeTalk has nothing to do for (no MCU, no internal clients). */
export const IGNORED_TYPES = new Set(["transient", "internal"]);

/** One server frame: `{id?, type, [type]: body}`. */
export function frame(type: string, body: unknown, id?: string): string {
  return JSON.stringify(id === undefined ? { type, [type]: body } : { id, type, [type]: body });
}

export function errorFrame(code: string, message: string, id?: string, details?: unknown): string {
  return frame("error", { code, message, ...(details === undefined ? {} : { details }) }, id);
}

export function eventFrame(target: string, type: string, body: unknown): string {
  return JSON.stringify({ type: "event", event: { target, type, [type]: body } });
}

/** The error messages of the reference's codes. */
export const ERRORS = {
  invalid_format: "Invalid data format.",
  hello_expected: "Expected Hello request.",
  invalid_hello_version: "The hello version is not supported.",
  invalid_client_type: "The client type is not supported.",
  auth_failed: "The user could not be authenticated.",
  invalid_ticket: "The passed ticket is invalid.",
  invalid_token: "The passed token is invalid.",
  token_expired: "The token is expired.",
  token_not_valid_yet: "The token is not valid yet.",
  no_such_session: "The session to resume does not exist.",
  no_such_room: "The user is not invited to this room.",
  already_joined: "Already joined this room.",
  duplicate_session: "The given session already joined the room.",
  not_in_room: "No room joined yet.",
  not_allowed: "Not allowed while waiting in the lobby.",
} as const;
export type ErrorCode = keyof typeof ERRORS;

/** Room properties as Talk hands them to the signaling server (`getPropertiesForSignaling`). */
export function roomProperties(meta: RoomMeta): Record<string, unknown> {
  return {
    name: meta.name,
    type: meta.type,
    "lobby-state": meta.lobbyState,
    "lobby-timer": meta.lobbyTimer > 0 ? meta.lobbyTimer : null,
    "read-only": meta.readOnly,
    listable: meta.listable,
    "active-since": meta.callStartTime > 0 ? meta.callStartTime : null,
    "sip-enabled": meta.sipEnabled,
    description: meta.description,
  };
}
