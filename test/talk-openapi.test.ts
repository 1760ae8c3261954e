/**
 * Talk's chat responses, and the conversation objects that carry chat state, against Talk's own
 * OpenAPI document (../shared/spec/spreed/spreed-openapi-full.v21.0.3.json): every status and body
 * a stock client receives in a chat session — messages with parents, system messages with rich
 * parameters, edits, deletions, a guest's message, read markers, mention suggestions, a cleared
 * history, and the documented error bodies. Skipped, saying so, on a machine without the document.
 */
import { describe, expect, it } from "vitest";
import { CookieJar, createUser, ocs, type OcsReply } from "./helpers/http";
import { contractMismatches, haveSpreedOpenApi } from "./helpers/contract";
import { V4 } from "./helpers/talk";

const API = "/ocs/v2.php/apps/spreed/api/{apiVersion}";
const V1 = "/ocs/v2.php/apps/spreed/api/v1";

/** Asserts that a reply conforms to the document's operation `method template` (and returns it). */
function conforms(method: string, template: string, reply: OcsReply): OcsReply {
  const path = `${API}${template}`.replace("{apiVersion}", template.startsWith("/chat") ? "v1" : "v4").replace(/\{[^}]+\}/g, "x");
  const found = contractMismatches(method, path, reply.status, { ocs: { meta: reply.meta, data: reply.data } });
  expect(found.map((m) => `${m.template}: ${m.error}`), `${method} ${template} → ${reply.status}`).toEqual([]);
  return reply;
}

if (!haveSpreedOpenApi) console.warn("talk-openapi: skipped, Talk's OpenAPI document is not on this machine (../shared/spec/spreed/spreed-openapi-full.v21.0.3.json, or SPREED_OPENAPI=<path>)");

describe.skipIf(!haveSpreedOpenApi)("Talk chat responses against spreed's OpenAPI document (21.0.3)", () => {
  it("validates a whole chat session: send, reply, receive both ways, edit, delete, mentions, read markers, clear, errors", async () => {
    const owner = await createUser("oa-owner", { displayName: "Olive Owner" });
    const member = await createUser("oa-member");
    const created = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 3, roomName: "contract" } });
    const token = created.data.token as string;
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: member.user } })).status).toBe(200);
    // A guest joins the public room and writes under a name of their own.
    const guest = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guest, body: {} })).status).toBe(200);

    const first = conforms("POST", "/chat/{token}", await ocs("POST", `${V1}/chat/${token}`, { auth: owner, body: { message: `Hello @${member.user}`, referenceId: "b".repeat(64) } }));
    expect(first.status).toBe(201);
    const reply = conforms("POST", "/chat/{token}", await ocs("POST", `${V1}/chat/${token}`, { auth: member, body: { message: "Hi!", replyTo: first.data.id } }));
    expect(reply.data.parent.id).toBe(first.data.id);
    conforms("POST", "/chat/{token}", await ocs("POST", `${V1}/chat/${token}`, { jar: guest, body: { message: "guest here", actorDisplayName: "Gus" } }));
    conforms("POST", "/chat/{token}", await ocs("POST", `${V1}/chat/${token}`, { auth: owner, body: { message: "quietly", silent: true } }));

    // History (newest first, system messages included) and the long-poll's catch-up read.
    const historyReply = conforms("GET", "/chat/{token}", await ocs("GET", `${V1}/chat/${token}`, { auth: member, query: { lookIntoFuture: "0", limit: "100" } }));
    expect(historyReply.data.some((m: { systemMessage: string }) => m.systemMessage === "conversation_created")).toBe(true);
    conforms("GET", "/chat/{token}", await ocs("GET", `${V1}/chat/${token}`, { auth: owner, query: { lookIntoFuture: "1", lastKnownMessageId: String(first.data.id), timeout: "0", includeLastKnown: "1" } }));

    // Edit and delete (own message; moderators any).
    const edited = conforms("PUT", "/chat/{token}/{messageId}", await ocs("PUT", `${V1}/chat/${token}/${first.data.id}`, { auth: owner, body: { message: "Hello again" } }));
    expect(edited.data).toMatchObject({ systemMessage: "message_edited", parent: { lastEditActorId: owner.user, message: "Hello again" } });
    const deleted = conforms("DELETE", "/chat/{token}/{messageId}", await ocs("DELETE", `${V1}/chat/${token}/${reply.data.id}`, { auth: owner }));
    expect(deleted.data.parent.deleted).toBe(true);
    conforms("PUT", "/chat/{token}/{messageId}", await ocs("PUT", `${V1}/chat/${token}/${first.data.id}`, { auth: member, body: { message: "not mine" } }));
    conforms("DELETE", "/chat/{token}/{messageId}", await ocs("DELETE", `${V1}/chat/${token}/999999`, { auth: owner }));

    // Mention suggestions, read markers (answered with the conversation), the conversation objects.
    const mentions = conforms("GET", "/chat/{token}/mentions", await ocs("GET", `${V1}/chat/${token}/mentions`, { auth: owner, query: { search: "oa", includeStatus: "1" } }));
    expect(mentions.data.length).toBeGreaterThan(0);
    conforms("POST", "/chat/{token}/read", await ocs("POST", `${V1}/chat/${token}/read`, { auth: member, body: { lastReadMessage: first.data.id } }));
    const unread = conforms("DELETE", "/chat/{token}/read", await ocs("DELETE", `${V1}/chat/${token}/read`, { auth: member }));
    expect(unread.data.unreadMessages).toBeGreaterThan(0);
    const room = conforms("GET", "/room/{token}", await ocs("GET", `${V4}/room/${token}`, { auth: member }));
    expect(room.data.lastMessage.id).toEqual(expect.any(Number));
    conforms("GET", "/room", await ocs("GET", `${V4}/room`, { auth: owner }));

    // The controller's documented error bodies: too long, a reply to a message that is not there.
    const tooLong = conforms("POST", "/chat/{token}", await ocs("POST", `${V1}/chat/${token}`, { auth: owner, body: { message: "x".repeat(32_001) } }));
    expect(tooLong.status).toBe(413);
    const noParent = conforms("POST", "/chat/{token}", await ocs("POST", `${V1}/chat/${token}`, { auth: owner, body: { message: "to nothing", replyTo: 999_999 } }));
    expect(noParent.status).toBe(400);
    // An unknown conversation is refused before the controller (spreed's middleware: an empty 404,
    // which the document, describing controllers, does not list).
    const unknown = await ocs("POST", `${V1}/chat/abcdefgh`, { auth: owner, body: { message: "nobody" } });
    expect([unknown.status, unknown.data]).toEqual([404, []]);

    // Clearing the history answers with its system message.
    const cleared = conforms("DELETE", "/chat/{token}", await ocs("DELETE", `${V1}/chat/${token}`, { auth: owner }));
    expect(cleared.data.systemMessage).toBe("history_cleared");
    const after = conforms("GET", "/room/{token}", await ocs("GET", `${V4}/room/${token}`, { auth: owner }));
    expect(after.data.lastMessage.systemMessage).toBe("history_cleared");
  });
});

