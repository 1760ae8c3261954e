/**
 * The `spreed` capability subtree. `TALK_FEATURES` lists only what EdgeTalk implements; a test
 * pins the exact list so it stays honest as features land.
 */
import type { UserRow } from "../db/schema";
import { config } from "../lib/config";
import { MAX_MESSAGE_LENGTH } from "../room/ops/chat";
import { EDGETALK_VERSION } from "../version";

export const TALK_FEATURES: readonly string[] = [
  // Conversations and participants
  "conversation-v4",
  "empty-group-room",
  "favorites",
  "last-room-activity",
  "notification-levels",
  "notification-calls",
  "invite-groups-and-mails",
  "locked-one-to-one-rooms",
  "read-only-rooms",
  "multi-room-users",
  "guest-display-names",
  "publishing-permissions",
  "conversation-permissions",
  "conversation-creation-password",
  "room-description",
  // Chat (one message store with OpenTalk's meeting chat)
  "chat-v2",
  "chat-read-marker",
  "chat-read-last",
  "chat-unread",
  "chat-reference-id",
  "chat-replies",
  "system-messages",
  "mention-flag",
  "edit-messages",
  "delete-messages",
  "clear-history",
  "silent-send",
  // Calls, lobby, SIP
  "audio",
  "video",
  "in-call-flags",
  "conversation-call-flags",
  "start-call-flag",
  "silent-call",
  "send-call-notification",
  "webinary-lobby",
  "sip-support",
  "sip-support-nopin",
  "recording-consent",
  // Signaling (internal long-poll; peers exchange raise-hand and force-mute over it)
  "no-ping",
  "signaling-v3",
  "guest-signaling",
  "raise-hand",
  "force-mute",
  // Sessions and avatars
  "session-state",
  "avatar",
];

export const MAX_DEFAULT_PERMISSIONS = 254;
export const MAX_CUSTOM_PERMISSIONS = 255;

/** `helloKey`: the public key of hello v2 tokens (standalone signaling), published as Nextcloud does. */
export function capabilities(env: Env, user: UserRow | null, helloKey: string) {
  const cfg = config(env);
  const [major, minor, micro] = EDGETALK_VERSION.nextcloud.split(".").map(Number);
  return {
    version: { major, minor, micro, string: EDGETALK_VERSION.nextcloudString, edition: "", extendedSupport: false },
    capabilities: {
      core: { pollinterval: 60, "webdav-root": "remote.php/webdav", "reference-api": false },
      spreed: {
        features: [...TALK_FEATURES],
        "features-local": [],
        config: {
          attachments: { allowed: false },
          call: {
            enabled: true,
            "breakout-rooms": false,
            recording: false,
            "recording-consent": cfg.recordingConsent,
            "supported-reactions": [],
            "sip-enabled": Boolean(cfg.sipBridgeSecret && cfg.sipDialinInfo),
            "sip-dialout-enabled": false,
            "can-enable-sip": false,
            "predefined-backgrounds": [],
            "can-upload-background": false,
            "start-without-media": false,
            "max-duration": 0,
            "blur-virtual-background": false,
            "end-to-end-encryption": false,
          },
          chat: {
            "max-length": MAX_MESSAGE_LENGTH,
            "read-privacy": user?.readPrivacy ?? 0,
            "has-translation-providers": false,
            "has-translation-task-providers": false,
            "typing-privacy": 0,
            "summary-threshold": 100,
          },
          conversations: { "can-create": true, "force-passwords": false, "list-style": "two-lines", "description-length": 2000 },
          previews: { "max-gif-size": 3_145_728 },
          federation: { enabled: false, "incoming-enabled": false, "outgoing-enabled": false, "only-trusted-servers": true },
          signaling: { mode: cfg.talkSignaling === "websocket" ? "external" : "internal", "session-ping-limit": 200, "hello-v2-token-key": helloKey },
          permissions: { "max-default": MAX_DEFAULT_PERMISSIONS, "max-custom": MAX_CUSTOM_PERMISSIONS, default: 0 },
        },
        "config-local": {},
        version: EDGETALK_VERSION.talk,
      },
    },
  };
}
