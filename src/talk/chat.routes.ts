/**
 * Talk's chat API (`api/v1/chat/{token}`): receive (history and the long-poll), send, edit,
 * delete, clear, read markers and mention autocomplete, on the room's one message store (an
 * OpenTalk meeting's global chat is the same chat).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { notifyUsers } from "../cloud/notify";
import { database } from "../db/client";
import { withdrawNotifications } from "../db/notifications";
import { currentUser, type AppEnv } from "../lib/context";
import { ocsFail } from "../lib/errors";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import type { CallerView, ChatPage, MentionCandidates, Outcome } from "../room/contract";
import type { StoredMessage } from "../room/types";
import type { Rewritten, Sent } from "../room/ops/chat";
import { type Reader, type TalkChatMessage, talkMessage, talkMessages } from "./chat-format";
import { talkRoom, TALK_V1, unwrap } from "./context";
import { presentView } from "./present";

const TAGS = ["Talk chat"];

/** Talk's limits: 100 messages by default, 200 at most; polls wait 30 s by default and at most. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 200;
const MAX_TIMEOUT = 30;

const flag = () => ocsInt().pipe(z.union([z.literal(0), z.literal(1)]));

const receiveParams = z.object({
  lookIntoFuture: flag(),
  limit: ocsInt().optional(),
  lastKnownMessageId: ocsInt().pipe(z.number().min(0)).optional(),
  lastCommonReadId: ocsInt().pipe(z.number().min(0)).optional(),
  timeout: ocsInt().pipe(z.number().min(0)).optional(),
  setReadMarker: flag().optional(),
  includeLastKnown: flag().optional(),
  noStatusUpdate: flag().optional(),
  markNotificationsAsRead: flag().optional(),
});

const sendParams = z.object({
  message: z.string(),
  actorDisplayName: z.string().max(255).optional(),
  referenceId: z.string().optional(),
  replyTo: ocsInt().pipe(z.number().min(0)).optional(),
  silent: ocsBool().optional(),
});

/** Reference ids are what a client chose to find its message again: up to 64 characters (a sha256 in hex). */
const REFERENCE_ID = /^.{1,64}$/s;

function commonReadHeader(lastCommonRead: number): Record<string, string> {
  return { "X-Chat-Last-Common-Read": String(lastCommonRead) };
}

function withParent(m: StoredMessage, parent: StoredMessage | null, token: string, reader: Reader): TalkChatMessage {
  const out: TalkChatMessage = talkMessage(m, token, reader);
  if (parent) out.parent = talkMessage(parent, token, reader);
  return out;
}

export function registerTalkChatRoutes(app: OpenAPIHono<AppEnv>) {
  const chat = `${TALK_V1}/chat/{token}`;

  ocsRoute(
    app,
    { method: "get", path: chat, summary: "Receive chat messages (history, or wait for new ones)", tags: TAGS, auth: "public", params: receiveParams },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const page = unwrap(
        (await r.stub.receiveMessages(r.caller, {
          lookIntoFuture: p.lookIntoFuture === 1,
          limit: Math.max(1, Math.min(MAX_LIMIT, p.limit ?? DEFAULT_LIMIT)),
          lastKnown: p.lastKnownMessageId ?? 0,
          includeLastKnown: p.includeLastKnown === 1,
          timeout: Math.min(MAX_TIMEOUT, p.timeout ?? MAX_TIMEOUT),
          setReadMarker: (p.setReadMarker ?? 1) === 1,
          lastCommonReadId: p.lastCommonReadId ?? 0,
        })) as Outcome<ChatPage>,
      );
      if (page.messages.length === 0) {
        // A moved common read marker is news too: 200 with the header (a 304 would drop it).
        if ((p.lastCommonReadId ?? 0) > 0 && p.lastCommonReadId !== page.lastCommonRead) return { data: [], headers: commonReadHeader(page.lastCommonRead) };
        return { status: 304, data: null };
      }
      const last = page.messages[page.messages.length - 1] as StoredMessage;
      return {
        data: talkMessages(page.messages, page.parents, r.token, page.reader),
        headers: { "X-Chat-Last-Given": String(last.id), ...commonReadHeader(page.lastCommonRead) },
      };
    },
  );

  ocsRoute(app, { method: "post", path: chat, summary: "Send a chat message", tags: TAGS, auth: "public", params: sendParams }, async (c, p, path) => {
    const r = await talkRoom(c, path.token);
    const referenceId = p.referenceId && REFERENCE_ID.test(p.referenceId) ? p.referenceId : "";
    const sent = unwrap(
      (await r.stub.sendMessage(r.caller, {
        message: p.message,
        displayName: p.actorDisplayName,
        replyTo: p.replyTo ?? 0,
        referenceId,
        silent: p.silent ?? false,
      })) as Outcome<Sent & { lastCommonRead: number; roomName: string }>,
    );
    if (!sent.message.silent && sent.mentioned.length > 0) {
      const user = currentUser(c);
      await notifyUsers(
        c,
        sent.mentioned.map((m) => ({
          userId: m.userUuid,
          app: "spreed",
          objectType: "chat",
          objectId: r.token,
          subject: m.direct ? "mention_direct" : "mention_all",
          parameters: { roomName: sent.roomName, actorName: user?.displayName ?? sent.self.displayName, messageId: String(sent.message.id) },
        })),
      );
    }
    return { status: 201, data: withParent(sent.message, sent.parent, r.token, sent.self), headers: commonReadHeader(sent.lastCommonRead) };
  });

  // Before `{messageId}`: `read` is no message id.
  ocsRoute(
    app,
    {
      method: "post",
      path: `${chat}/read`,
      summary: "Set the read marker",
      tags: TAGS,
      auth: "public",
      params: z.object({ lastReadMessage: ocsInt().pipe(z.number().min(-2)).nullable().optional() }),
    },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const view = unwrap((await r.stub.setReadMarker(r.caller, p.lastReadMessage ?? null)) as Outcome<CallerView>);
      const user = currentUser(c);
      // Reading up to the newest message reads the mentions too.
      if (user && view.chat && view.chat.lastReadMessage >= (view.chat.lastMessage?.id ?? 0)) {
        await withdrawNotifications(database(c.env), "chat", r.token, [user.id]);
      }
      return { data: await presentView(c.env, view, r.serial, user?.userid), headers: commonReadHeader(view.chat?.lastCommonReadMessage ?? 0) };
    },
  );

  ocsRoute(app, { method: "delete", path: `${chat}/read`, summary: "Mark the chat unread", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token);
    const view = unwrap((await r.stub.markUnread(r.caller)) as Outcome<CallerView>);
    return { data: await presentView(c.env, view, r.serial, currentUser(c)?.userid), headers: commonReadHeader(view.chat?.lastCommonReadMessage ?? 0) };
  });

  const rewritten = (done: Rewritten & { lastCommonRead: number }, token: string, reader: Reader) => ({
    data: withParent(done.system, done.message, token, reader),
    headers: commonReadHeader(done.lastCommonRead),
  });

  ocsRoute(
    app,
    { method: "put", path: `${chat}/{messageId}`, summary: "Edit a chat message", tags: TAGS, auth: "public", params: z.object({ message: z.string() }) },
    async (c, p, path) => {
      const id = messageIdOf(path.messageId);
      const r = await talkRoom(c, path.token);
      const done = unwrap((await r.stub.editMessage(r.caller, id, p.message)) as Outcome<Rewritten & { lastCommonRead: number }>);
      return rewritten(done, r.token, { actorType: done.system.actor.type, actorId: done.system.actor.id });
    },
  );

  ocsRoute(app, { method: "delete", path: `${chat}/{messageId}`, summary: "Delete a chat message", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const id = messageIdOf(path.messageId);
    const r = await talkRoom(c, path.token);
    const done = unwrap((await r.stub.deleteMessage(r.caller, id)) as Outcome<Rewritten & { lastCommonRead: number }>);
    return rewritten(done, r.token, { actorType: done.system.actor.type, actorId: done.system.actor.id });
  });

  ocsRoute(app, { method: "delete", path: chat, summary: "Clear the chat history (moderators)", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token);
    const system = unwrap((await r.stub.clearHistory(r.caller)) as Outcome<StoredMessage>);
    return { data: talkMessage(system, r.token, { actorType: system.actor.type, actorId: system.actor.id }) };
  });

  ocsRoute(
    app,
    {
      method: "get",
      path: `${chat}/mentions`,
      summary: "Mention suggestions",
      tags: TAGS,
      auth: "public",
      params: z.object({ search: z.string(), limit: ocsInt().optional(), includeStatus: ocsBool().optional() }),
    },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const limit = Math.max(1, Math.min(MAX_LIMIT, p.limit ?? 20));
      const { candidates: found, self, roomName } = unwrap((await r.stub.mentionCandidates(r.caller, p.search, limit)) as Outcome<MentionCandidates>);
      const out: { id: string; label: string; source: string; mentionId: string }[] = [];
      // "@all" first, when the search matches it or the conversation's name.
      const search = p.search.toLowerCase();
      if ("all".startsWith(search) || (search !== "" && roomName.toLowerCase().includes(search))) {
        out.push({ id: "all", label: roomName, source: "calls", mentionId: "all" });
      }
      for (const a of found) {
        if (a.actorType === self.actorType && a.actorId === self.actorId) continue;
        if (a.actorType === "users") out.push({ id: a.actorId, label: a.displayName, source: "users", mentionId: a.actorId });
        else if (a.actorType === "groups") out.push({ id: a.actorId, label: a.displayName, source: "groups", mentionId: `group/${a.actorId}` });
        else out.push({ id: `guest/${a.actorId}`, label: a.displayName || "Guest", source: a.actorType, mentionId: `guest/${a.actorId}` });
      }
      return { data: out.slice(0, limit) };
    },
  );
}

function messageIdOf(raw: string | undefined): number {
  if (!raw || !/^\d{1,15}$/.test(raw)) throw ocsFail(404, "message");
  return Number(raw);
}
