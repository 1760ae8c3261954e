/**
 * Talk's chat API (`api/v1/chat/{token}`): receive (history and the long-poll), send, edit,
 * delete, clear, read markers and mention autocomplete, on the room's one message store (an
 * OpenTalk meeting's global chat is the same chat).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { notifyUsers } from "../cloud/notify";
import { database } from "../db/client";
import { withdrawChatNotifications, withdrawNotifications, withdrawObjectNotifications } from "../db/notifications";
import { userGroups } from "../db/users";
import { config } from "../lib/config";
import { type AppContext, currentUser, type AppEnv } from "../lib/context";
import { ocsFail } from "../lib/errors";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import type { CallerView, ChatPage, ChatRoomFacts, MentionCandidates, Outcome } from "../room/contract";
import type { StoredMessage } from "../room/types";
import type { ChatNotice, Rewritten, Sent } from "../room/ops/chat";
import { type Reader, type TalkChatMessage, talkMessage, talkMessages } from "./chat-format";
import { refillPartners, talkRoom, TALK_V1, unwrap } from "./context";
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

/** Reference ids are what a client chose to find its message again; longer ones are cut to 64 characters, as the reference does. */
const REFERENCE_ID_LENGTH = 64;

/** The common read marker, for readers who share their own (read privacy 0), as the reference sends it. */
function commonReadHeader(reader: { readPrivacy: number } | null | undefined, lastCommonRead: number): Record<string, string> {
  return reader && reader.readPrivacy === 0 ? { "X-Chat-Last-Common-Read": String(lastCommonRead) } : {};
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
        if ((p.lastCommonReadId ?? 0) > 0 && page.reader.readPrivacy === 0 && p.lastCommonReadId !== page.lastCommonRead) return { data: [], headers: commonReadHeader(page.reader, page.lastCommonRead) };
        return { status: 304, data: null };
      }
      const last = page.messages[page.messages.length - 1] as StoredMessage;
      return {
        data: talkMessages(page.messages, page.parents, r.token, page.reader),
        headers: { "X-Chat-Last-Given": String(last.id), ...commonReadHeader(page.reader, page.lastCommonRead) },
      };
    },
  );

  ocsRoute(app, { method: "post", path: chat, summary: "Send a chat message", tags: TAGS, auth: "public", params: sendParams }, async (c, p, path) => {
    const r = await talkRoom(c, path.token);
    const referenceId = [...(p.referenceId ?? "")].slice(0, REFERENCE_ID_LENGTH).join("");
    const input = {
      message: p.message,
      displayName: p.actorDisplayName,
      replyTo: p.replyTo ?? 0,
      referenceId,
      silent: p.silent ?? false,
      defaultGroupNotification: config(c.env).defaultGroupNotification,
    };
    type SendOutcome = Outcome<Sent & ChatRoomFacts>;
    let outcome = (await r.stub.sendMessage(r.caller, input)) as SendOutcome;
    // A one-to-one partner who left the conversation is added back, then the message goes out.
    if (await refillPartners(c, r.stub, outcome)) outcome = (await r.stub.sendMessage(r.caller, input)) as SendOutcome;
    const sent = unwrap(outcome);
    const groupNotices = await groupMentionNotices(c.env, sent);
    await notifyChat(c, r.token, sent.message, [...sent.notices, ...groupNotices], { roomName: sent.roomName, oneToOne: sent.oneToOne });
    return { status: 201, data: withParent(sent.message, sent.parent, r.token, sent.self), headers: commonReadHeader(sent.self, sent.lastCommonRead) };
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
        await withdrawChatNotifications(database(c.env), r.token, user.id);
      }
      return { data: await presentView(c.env, view, r.serial, user?.userid), headers: commonReadHeader(view.attendee, view.chat?.lastCommonReadMessage ?? 0) };
    },
  );

  ocsRoute(app, { method: "delete", path: `${chat}/read`, summary: "Mark the chat unread", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token);
    const view = unwrap((await r.stub.markUnread(r.caller)) as Outcome<CallerView>);
    return { data: await presentView(c.env, view, r.serial, currentUser(c)?.userid), headers: commonReadHeader(view.attendee, view.chat?.lastCommonReadMessage ?? 0) };
  });

  const rewritten = (done: Rewritten & ChatRoomFacts, token: string, reader: Reader) => ({
    data: withParent(done.system, done.message, token, reader),
    headers: commonReadHeader(done.self, done.lastCommonRead),
  });

  ocsRoute(
    app,
    { method: "put", path: `${chat}/{messageId}`, summary: "Edit a chat message", tags: TAGS, auth: "public", params: z.object({ message: z.string() }) },
    async (c, p, path) => {
      const id = messageIdOf(path.messageId);
      const r = await talkRoom(c, path.token);
      const done = unwrap((await r.stub.editMessage(r.caller, id, p.message, config(c.env).defaultGroupNotification)) as Outcome<Rewritten & ChatRoomFacts>);
      if (done.noticesRemoved.length > 0) await withdrawNotifications(database(c.env), "chat", `${r.token}/${id}`, done.noticesRemoved);
      await notifyChat(c, r.token, done.message, done.noticesAdded, done);
      return rewritten(done, r.token, { actorType: done.system.actor.type, actorId: done.system.actor.id });
    },
  );

  ocsRoute(app, { method: "delete", path: `${chat}/{messageId}`, summary: "Delete a chat message", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const id = messageIdOf(path.messageId);
    const r = await talkRoom(c, path.token);
    const done = unwrap((await r.stub.deleteMessage(r.caller, id)) as Outcome<Rewritten & ChatRoomFacts>);
    await withdrawObjectNotifications(database(c.env), "chat", `${r.token}/${id}`);
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
      params: z.object({ search: z.string().max(1000), limit: ocsInt().optional(), includeStatus: ocsBool().optional() }),
    },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const limit = Math.max(1, Math.min(MAX_LIMIT, p.limit ?? 20));
      const { candidates: found, self, roomName, oneToOne, participants } = unwrap((await r.stub.mentionCandidates(r.caller, p.search, limit)) as Outcome<MentionCandidates>);
      const out: { id: string; label: string; source: string; mentionId: string; details?: string }[] = [];
      // "@all" first (not in one-to-one rooms), when the search is part of "all" or of the conversation's name.
      const search = p.search.toLowerCase();
      if (!oneToOne && ("all".includes(search) || roomName.toLowerCase().includes(search))) {
        out.push({ id: "all", label: roomName, source: "calls", mentionId: "all", details: `All ${participants} ${participants === 1 ? "participant" : "participants"}` });
      }
      for (const a of found) {
        if (a.actorType === self.actorType && a.actorId === self.actorId) continue;
        if (a.actorType === "users") out.push({ id: a.actorId, label: a.displayName, source: "users", mentionId: a.actorId });
        else if (a.actorType === "groups") out.push({ id: a.actorId, label: a.displayName, source: "groups", mentionId: `group/${a.actorId}` });
        else out.push({ id: `guest/${a.actorId}`, label: a.displayName || "Guest", source: a.actorType === "emails" ? "emails" : "guests", mentionId: `guest/${a.actorId}` });
      }
      return { data: out.slice(0, limit) };
    },
  );
}

/** Members of the mentioned groups among those who could hear of the message (`mention_group`). */
async function groupMentionNotices(env: Env, sent: Sent): Promise<ChatNotice[]> {
  if (sent.mentionedGroups.length === 0) return [];
  const db = database(env);
  const out: ChatNotice[] = [];
  for (const candidate of sent.groupCandidates) {
    const group = (await userGroups(db, candidate.userUuid)).find((g) => sent.mentionedGroups.includes(g));
    if (group) out.push({ ...candidate, kind: "mention_group", group });
  }
  return out;
}

/** Chat notifications (object `token/messageId`), with the plain text of the message. */
async function notifyChat(c: AppContext, token: string, message: StoredMessage, notices: ChatNotice[], room: { roomName: string; oneToOne: boolean }): Promise<void> {
  if (notices.length === 0) return;
  const text = talkMessage(message, token, { actorType: "", actorId: "" });
  const plain = text.message.replace(/\{([a-z0-9-]+)\}/g, (whole, key: string) => {
    const p = (text.messageParameters as Record<string, { name: string }>)[key];
    return p ? `@${p.name}` : whole;
  });
  await notifyUsers(
    c,
    notices.map((n) => ({
      userId: n.userUuid,
      app: "spreed",
      objectType: "chat",
      objectId: `${token}/${message.id}`,
      subject: `chat_${n.kind}`,
      parameters: { roomName: room.roomName, oneToOne: room.oneToOne ? "1" : "0", actorName: message.actor.name, message: plain, ...(n.group ? { group: n.group } : {}) },
    })),
  );
}

function messageIdOf(raw: string | undefined): number {
  if (!raw || !/^\d{1,15}$/.test(raw)) throw ocsFail(404, "message");
  return Number(raw);
}
