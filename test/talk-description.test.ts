/**
 * The conversation description (Talk 21, spreed's conversation-5/set-description.feature):
 * `PUT …/room/{token}/description`, up to 2000 characters counted as characters, moderators
 * (guest moderators too), never in one-to-one rooms; the conversation object carries it.
 */
import { describe, expect, it } from "vitest";
import { CookieJar, type Credentials, createUser, ocs } from "./helpers/http";
import { V4 } from "./helpers/talk";

const describeRoom = (token: string, auth: Credentials | undefined, description: string, jar?: CookieJar) =>
  ocs("PUT", `${V4}/room/${token}/description`, { auth, jar, body: { description } });

const descriptionOf = async (token: string, auth: Credentials) => (await ocs("GET", `${V4}/room/${token}`, { auth })).data.description;

async function groupRoom(type = 2) {
  const owner = await createUser("dsown");
  const moderator = await createUser("dsmod");
  const user = await createUser("dsusr");
  const room = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: type, roomName: "room" } });
  const token = room.data.token as string;
  for (const who of [moderator, user]) await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: who.user } });
  const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner });
  const modId = list.data.find((p: { actorId: string }) => p.actorId === moderator.user).attendeeId;
  expect((await ocs("POST", `${V4}/room/${token}/moderators`, { auth: owner, body: { attendeeId: modId } })).status).toBe(200);
  return { owner, moderator, user, token };
}

describe("PUT /room/{token}/description", () => {
  it("takes 2000 characters (multibyte too), refuses 2001 with 400 value and keeps the old one", async () => {
    const { owner, token } = await groupRoom();
    const ascii = `${"0123456789".repeat(199)}012345678C`;
    expect(ascii.length).toBe(2000);
    const set = await describeRoom(token, owner, ascii);
    expect(set.status).toBe(200);
    expect(set.data.description).toBe(ascii);
    const multibyte = "०१२३४५६७८च".repeat(200);
    expect([...multibyte].length).toBe(2000);
    expect((await describeRoom(token, owner, multibyte)).status).toBe(200);
    expect(await descriptionOf(token, owner)).toBe(multibyte);
    expect((await describeRoom(token, owner, "the description")).status).toBe(200);
    for (const tooLong of [`${ascii}1`, `${multibyte}1`]) {
      const res = await describeRoom(token, owner, tooLong);
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "value" });
    }
    expect(await descriptionOf(token, owner)).toBe("the description");
    // An empty description clears it.
    expect((await describeRoom(token, owner, "")).status).toBe(200);
    expect(await descriptionOf(token, owner)).toBe("");
  });

  it("owners and moderators set it; members get 403, strangers and guests who did not join 404; one-to-one rooms 400", async () => {
    const { owner, moderator, user, token } = await groupRoom(3);
    const stranger = await createUser("dsstr");
    expect((await describeRoom(token, moderator, "by the moderator")).status).toBe(200);
    expect((await describeRoom(token, user, "by a member")).status).toBe(403);
    expect((await describeRoom(token, stranger, "by a stranger")).status).toBe(404);
    expect((await describeRoom(token, undefined, "by a guest", new CookieJar())).status).toBe(404);
    // A guest who joined the public room is a participant without moderator rights: 403.
    const guest = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guest })).status).toBe(200);
    expect((await describeRoom(token, undefined, "by a joined guest", guest)).status).toBe(403);
    expect(await descriptionOf(token, owner)).toBe("by the moderator");
    // The room list (from the D1 index) carries it too.
    const listed = await ocs("GET", `${V4}/room`, { auth: user });
    expect(listed.data.find((r: { token: string }) => r.token === token).description).toBe("by the moderator");

    const partner = await createUser("dsprt");
    const one = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 1, invite: partner.user } });
    for (const who of [owner, partner]) expect((await describeRoom(one.data.token, who, "the description")).status).toBe(400);
    expect(await descriptionOf(one.data.token, owner)).toBe("");
  });
});
