/**
 * Talk's chat API through the Worker (`api/v1/chat/{token}`): send and receive (history newest
 * first, the long-poll oldest first, 304 when nothing is new), replies, edits and deletions, read
 * markers and unread counts in the conversation object and the room list, mentions with their
 * notification, system messages, the lobby / read-only / permission rules, and history after the
 * room object was evicted.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { evictDurableObject } from "./helpers/evict";
import { CookieJar, type Credentials, createUser, ocs } from "./helpers/http";
import { roomIdOf, V4 } from "./helpers/talk";

const V1 = "/ocs/v2.php/apps/spreed/api/v1";
const NOTIFICATIONS = "/ocs/v2.php/apps/notifications/api/v2/notifications";

const send = (token: string, auth: Credentials | undefined, body: Record<string, unknown>, jar?: CookieJar) => ocs("POST", `${V1}/chat/${token}`, { auth, jar, body });
const receive = (token: string, auth: Credentials | undefined, query: Record<string, string>, jar?: CookieJar) =>
  ocs("GET", `${V1}/chat/${token}`, { auth, jar, query });
const history = async (token: string, auth: Credentials) => (await receive(token, auth, { lookIntoFuture: "0", limit: "200" })).data as any[];
const comments = (list: any[]) => list.filter((m) => m.systemMessage === "").map((m) => m.message);
const conversationOf = async (token: string, auth: Credentials) => (await ocs("GET", `${V4}/room/${token}`, { auth })).data;

async function groupRoom(type = 2) {
  const owner = await createUser("chown");
  const member = await createUser("chmem");
  const room = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: type, roomName: "chat room" } });
  const token = room.data.token as string;
  expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: member.user } })).status).toBe(200);
  return { owner, member, token };
}

describe("sending and receiving", () => {
  it("answers a sent message with 201 and the message; history is newest first with X-Chat-Last-Given", async () => {
    const { owner, member, token } = await groupRoom();
    const first = await send(token, owner, { message: "Message 1", referenceId: "a".repeat(64) });
    expect(first.status).toBe(201);
    expect(first.data).toMatchObject({
      token,
      actorType: "users",
      actorId: owner.user,
      message: "Message 1",
      messageParameters: [],
      systemMessage: "",
      messageType: "comment",
      isReplyable: true,
      referenceId: "a".repeat(64),
      reactions: {},
      expirationTimestamp: 0,
      markdown: true,
    });
    expect(first.headers.get("X-Chat-Last-Common-Read")).not.toBeNull();
    await send(token, member, { message: "Message 2" });
    const res = await receive(token, member, { lookIntoFuture: "0", limit: "2" });
    expect(res.status).toBe(200);
    expect(res.data.map((m: any) => m.message)).toEqual(["Message 2", "Message 1"]);
    expect(res.headers.get("X-Chat-Last-Given")).toBe(String(first.data.id));
    // Older than the first message: the system messages of the room's creation, then nothing.
    const older = await receive(token, member, { lookIntoFuture: "0", lastKnownMessageId: String(first.data.id), limit: "200" });
    expect(older.data.map((m: any) => m.systemMessage)).toEqual(["user_added", "conversation_created"]);
    expect(older.data[0].message).toBe("{actor} added you");
  });

  it("polls the future oldest first, answers 304 with no body when nothing comes, and wakes for a new message", async () => {
    const { owner, member, token } = await groupRoom();
    const sent = await send(token, owner, { message: "before" });
    const idle = await receive(token, member, { lookIntoFuture: "1", lastKnownMessageId: String(sent.data.id), timeout: "0" });
    expect(idle.status).toBe(304);
    expect(await idle.raw.clone().text()).toBe("");
    const waiting = receive(token, member, { lookIntoFuture: "1", lastKnownMessageId: String(sent.data.id), timeout: "20" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await send(token, owner, { message: "after" });
    const woke = await waiting;
    expect(woke.status).toBe(200);
    expect(woke.data.map((m: any) => m.message)).toEqual(["after"]);
    // includeLastKnown also returns the known one.
    const both = await receive(token, member, { lookIntoFuture: "1", lastKnownMessageId: String(sent.data.id), includeLastKnown: "1", timeout: "0" });
    expect(both.data.map((m: any) => m.message)).toEqual(["before", "after"]);
  });

  it("refuses empty (400 message), too long (413 message) and unknown replies (400 reply-to); validates parameters", async () => {
    const { owner, token } = await groupRoom();
    expect(await send(token, owner, { message: "   " })).toMatchObject({ status: 400, data: { error: "message" } });
    expect(await send(token, owner, { message: "x".repeat(32001) })).toMatchObject({ status: 413, data: { error: "message" } });
    expect(await send(token, owner, { message: "reply", replyTo: 999999 })).toMatchObject({ status: 400, data: { error: "reply-to" } });
    expect((await send(token, owner, {})).status).toBe(400);
    expect((await receive(token, owner, { lookIntoFuture: "2" })).status).toBe(400);
    expect(comments(await history(token, owner))).toEqual([]);
  });

  it("quotes the parent of a reply", async () => {
    const { owner, member, token } = await groupRoom();
    const question = await send(token, owner, { message: "question?" });
    const answer = await send(token, member, { message: "answer", replyTo: question.data.id });
    expect(answer.status).toBe(201);
    expect(answer.data.parent).toMatchObject({ id: question.data.id, message: "question?", actorId: owner.user });
    const list = await history(token, owner);
    expect(list[0].parent).toMatchObject({ id: question.data.id, message: "question?" });
  });
});

describe("who may chat", () => {
  it("strangers and guests outside a group room get 404; without the chat permission 403; read-only 403", async () => {
    const { owner, member, token } = await groupRoom();
    const stranger = await createUser("chstr");
    expect((await send(token, stranger, { message: "hi" })).status).toBe(404);
    expect((await receive(token, stranger, { lookIntoFuture: "0" })).status).toBe(404);
    expect((await send(token, undefined, { message: "hi" }, new CookieJar())).status).toBe(404);
    const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner });
    const attendeeId = list.data.find((p: any) => p.actorId === member.user).attendeeId;
    // Everything but chat (128).
    await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: owner, body: { attendeeId, method: "set", permissions: 255 - 128 } });
    expect(await send(token, member, { message: "no" })).toMatchObject({ status: 403, data: { error: "permission" } });
    await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: owner, body: { state: 1 } });
    expect(await send(token, owner, { message: "locked" })).toMatchObject({ status: 403, data: { error: "read-only" } });
    expect(comments(await history(token, owner))).toEqual([]);
  });

  it("holds non-moderators back while the lobby is on (412), moderators chat; the conversation hides the chat", async () => {
    const { owner, member, token } = await groupRoom();
    await send(token, owner, { message: "before the lobby" });
    await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: owner, body: { state: 1 } });
    expect((await send(token, member, { message: "let me in" })).status).toBe(412);
    expect((await receive(token, member, { lookIntoFuture: "0" })).status).toBe(412);
    expect((await send(token, owner, { message: "moderators only" })).status).toBe(201);
    const held = await conversationOf(token, member);
    expect(held.unreadMessages).toBe(0);
    expect(held).not.toHaveProperty("lastMessage");
    expect((await conversationOf(token, owner)).lastMessage.message).toBe("moderators only");
  });

  it("lets a guest who joined a public room chat under the name they give", async () => {
    const { owner, token } = await groupRoom(3);
    const guest = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guest, body: {} })).status).toBe(200);
    const sent = await send(token, undefined, { message: "hello from a guest", actorDisplayName: "Visitor" }, guest);
    expect(sent.status).toBe(201);
    expect(sent.data).toMatchObject({ actorType: "guests", actorDisplayName: "Visitor", message: "hello from a guest" });
    expect((await history(token, owner))[0]).toMatchObject({ actorType: "guests", actorId: sent.data.actorId, actorDisplayName: "Visitor" });
  });
});

describe("editing, deleting, clearing", () => {
  it("edits one's own message (message_edited with the parent); others get 403; moderators may", async () => {
    const { owner, member, token } = await groupRoom();
    const sent = await send(token, member, { message: "typo" });
    const edited = await ocs("PUT", `${V1}/chat/${token}/${sent.data.id}`, { auth: member, body: { message: "fixed" } });
    expect(edited.status).toBe(200);
    expect(edited.data).toMatchObject({ systemMessage: "message_edited", message: "You edited a message", parent: { id: sent.data.id, message: "fixed", lastEditActorId: member.user } });
    const other = await createUser("choth");
    await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: other.user } });
    expect(await ocs("PUT", `${V1}/chat/${token}/${sent.data.id}`, { auth: other, body: { message: "mine now" } })).toMatchObject({ status: 403, data: { error: "permission" } });
    expect((await ocs("PUT", `${V1}/chat/${token}/${sent.data.id}`, { auth: owner, body: { message: "moderated" } })).status).toBe(200);
    expect((await ocs("PUT", `${V1}/chat/${token}/999999`, { auth: owner, body: { message: "x" } })).status).toBe(404);
    const system = (await history(token, owner)).find((m) => m.systemMessage === "conversation_created");
    expect((await ocs("PUT", `${V1}/chat/${token}/${system.id}`, { auth: owner, body: { message: "x" } })).status).toBe(405);
  });

  it("deletes a message: it stays as comment_deleted, read as 'Message deleted by …' per reader", async () => {
    const { owner, member, token } = await groupRoom();
    const sent = await send(token, member, { message: "oops" });
    const deleted = await ocs("DELETE", `${V1}/chat/${token}/${sent.data.id}`, { auth: owner });
    expect(deleted.status).toBe(200);
    expect(deleted.data).toMatchObject({ systemMessage: "message_deleted", message: "You deleted a message", parent: { id: sent.data.id, messageType: "comment_deleted", deleted: true, message: "Message deleted by you" } });
    const seen = (await history(token, member)).find((m) => m.id === sent.data.id);
    expect(seen).toMatchObject({ message: "Message deleted by {actor}", messageParameters: { actor: { type: "user", id: owner.user } } });
  });

  it("clears the history for moderators only; the system message is what remains", async () => {
    const { owner, member, token } = await groupRoom();
    await send(token, member, { message: "soon gone" });
    expect((await ocs("DELETE", `${V1}/chat/${token}`, { auth: member })).status).toBe(403);
    const cleared = await ocs("DELETE", `${V1}/chat/${token}`, { auth: owner });
    expect(cleared.status).toBe(200);
    expect(cleared.data).toMatchObject({ systemMessage: "history_cleared", message: "You cleared the history of the conversation" });
    expect((await history(token, member)).map((m) => m.systemMessage)).toEqual(["history_cleared"]);
  });
});

describe("read markers, unread counts and mentions", () => {
  it("counts unread comments per member in the conversation and the room list; reading clears them", async () => {
    const { owner, member, token } = await groupRoom();
    await send(token, owner, { message: "one" });
    const two = await send(token, owner, { message: "two" });
    const before = await conversationOf(token, member);
    expect(before).toMatchObject({ unreadMessages: 2, unreadMention: false, lastMessage: { message: "two", actorId: owner.user } });
    expect((await conversationOf(token, owner)).unreadMessages).toBe(0);
    const listed = (await ocs("GET", `${V4}/room`, { auth: member })).data.find((r: any) => r.token === token);
    expect(listed).toMatchObject({ unreadMessages: 2, lastMessage: { id: two.data.id, message: "two" } });
    const read = await ocs("POST", `${V1}/chat/${token}/read`, { auth: member, body: { lastReadMessage: two.data.id } });
    expect(read.status).toBe(200);
    expect(read.data).toMatchObject({ token, unreadMessages: 0, lastReadMessage: two.data.id });
    expect(read.headers.get("X-Chat-Last-Common-Read")).toBe(String(two.data.id));
    const unread = await ocs("DELETE", `${V1}/chat/${token}/read`, { auth: member });
    expect(unread.data.unreadMessages).toBe(1);
    const relisted = (await ocs("GET", `${V4}/room`, { auth: member })).data.find((r: any) => r.token === token);
    expect(relisted.unreadMessages).toBe(1);
  });

  it("renders mentions as parameters, flags unreadMention and notifies the mentioned user", async () => {
    const { owner, member, token } = await groupRoom();
    const sent = await send(token, owner, { message: `hi @${member.user} and @all` });
    expect(sent.data.message).toBe("hi {mention-user1} and {mention-call1}");
    expect(sent.data.messageParameters).toMatchObject({
      "mention-user1": { type: "user", id: member.user },
      "mention-call1": { type: "call", id: token, name: "chat room" },
    });
    expect(await conversationOf(token, member)).toMatchObject({ unreadMention: true, unreadMentionDirect: true });
    const notes = (await ocs("GET", NOTIFICATIONS, { auth: member })).data as any[];
    // One notification per message, as the reference's object id says: token/messageId.
    expect(notes.find((n) => n.object_type === "chat" && n.object_id === `${token}/${sent.data.id}`)?.subject).toMatch(/ mentioned you in conversation chat room$/);
    // Reading to the end withdraws it.
    await ocs("POST", `${V1}/chat/${token}/read`, { auth: member, body: {} });
    expect(((await ocs("GET", NOTIFICATIONS, { auth: member })).data as any[]).some((n) => n.object_type === "chat")).toBe(false);
    expect((await conversationOf(token, member)).unreadMention).toBe(false);
  });

  it("suggests members to mention, @all first, not oneself", async () => {
    const { owner, member, token } = await groupRoom();
    const res = await ocs("GET", `${V1}/chat/${token}/mentions`, { auth: owner, query: { search: "" } });
    expect(res.status).toBe(200);
    expect(res.data[0]).toEqual({ id: "all", label: "chat room", source: "calls", mentionId: "all", details: "All 2 participants" });
    expect(res.data.map((s: any) => s.id)).toContain(member.user);
    expect(res.data.map((s: any) => s.id)).not.toContain(owner.user);
  });
});

describe("system messages", () => {
  it("records what happens to the conversation, read as 'You …' by the actor", async () => {
    const { owner, member, token } = await groupRoom(2);
    await ocs("PUT", `${V4}/room/${token}`, { auth: owner, body: { roomName: "renamed" } });
    await ocs("PUT", `${V4}/room/${token}/description`, { auth: owner, body: { description: "about" } });
    await ocs("POST", `${V4}/room/${token}/public`, { auth: owner });
    await ocs("PUT", `${V4}/room/${token}/password`, { auth: owner, body: { password: "Secret-Passw0rd-1" } });
    await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: owner, body: { state: 1 } });
    await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: owner, body: { state: 0 } });
    await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: owner, body: { state: 1 } });
    const list = await history(token, owner);
    expect(list.map((m) => m.systemMessage)).toEqual([
      "read_only",
      "lobby_none",
      "lobby_non_moderators",
      "password_set",
      "guests_allowed",
      "description_set",
      "conversation_renamed",
      "user_added",
      "conversation_created",
    ]);
    expect(list.find((m) => m.systemMessage === "conversation_renamed").message).toBe('You renamed the conversation from "chat room" to "renamed"');
    expect(list[0]).toMatchObject({ actorType: "users", actorId: owner.user, messageType: "system", isReplyable: false, markdown: false, messageParameters: { actor: { type: "user", id: owner.user } } });
    const seenByMember = await history(token, member);
    expect(seenByMember.find((m) => m.systemMessage === "user_added").message).toBe("{actor} added you");
    expect(seenByMember[0].message).toBe("{actor} locked the conversation");
  });

  it("records calls: started, joined, left and ended", async () => {
    const { owner, member, token } = await groupRoom();
    const ownerJar = new CookieJar();
    const memberJar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: owner, jar: ownerJar, body: {} });
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: member, jar: memberJar, body: {} });
    await ocs("POST", `${V4}/call/${token}`, { auth: owner, jar: ownerJar, body: { flags: 3 } });
    await ocs("POST", `${V4}/call/${token}`, { auth: member, jar: memberJar, body: { flags: 3 } });
    await ocs("DELETE", `${V4}/call/${token}`, { auth: member, jar: memberJar });
    await ocs("DELETE", `${V4}/call/${token}`, { auth: owner, jar: ownerJar });
    const list = await history(token, owner);
    expect(list.slice(0, 4).map((m) => m.systemMessage)).toEqual(["call_ended", "call_left", "call_joined", "call_started"]);
    expect(list[0].message).toMatch(/^Call with \{user1\} and \{user2\} \(Duration \d+:\d\d\)$/);
  });
});

describe("durability", () => {
  it("keeps the history after the room object is evicted", async () => {
    const { owner, token } = await groupRoom();
    for (const text of ["kept 1", "kept 2"]) await send(token, owner, { message: text });
    await evictDurableObject(env.ROOMS.get(env.ROOMS.idFromName(await roomIdOf(token))));
    expect(comments(await history(token, owner))).toEqual(["kept 2", "kept 1"]);
    expect((await send(token, owner, { message: "after" })).status).toBe(201);
  }, 60_000);
});
