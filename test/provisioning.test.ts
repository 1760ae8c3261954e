import { describe, expect, it } from "vitest";
import { ADMIN, createUser, ocs, unique } from "./helpers/http";

describe("user provisioning (Nextcloud way)", () => {
  it("creates a user that can then log in with Basic auth", async () => {
    const userid = unique("alice");
    const created = await ocs("POST", "/ocs/v2.php/cloud/users", {
      auth: ADMIN,
      body: { userid, password: "correct horse", displayName: "Alice Example", email: `${userid}@example.test` },
    });
    expect(created.status).toBe(200);
    expect(created.meta).toEqual({ status: "ok", statuscode: 200, message: "OK" });
    expect(created.data).toEqual({ id: userid });

    const me = await ocs("GET", `/ocs/v2.php/cloud/users/${userid}`, { auth: ADMIN });
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ id: userid, displayname: "Alice Example", email: `${userid}@example.test`, groups: [] });

    const asUser = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: userid, password: "correct horse" } });
    expect(asUser.status).toBe(200);
  });

  it("accepts form-encoded bodies with groups[]", async () => {
    const group = unique("team");
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, form: { groupid: group } })).status).toBe(200);
    const userid = unique("bob");
    const res = await ocs("POST", "/ocs/v2.php/cloud/users", {
      auth: ADMIN,
      form: { userid, password: "pw-bob-123", "groups[]": group },
    });
    expect(res.status).toBe(200);
    const got = await ocs("GET", `/ocs/v2.php/cloud/users/${userid}`, { auth: ADMIN });
    expect(got.data.groups).toEqual([group]);
  });

  it("rejects a duplicate user with an OCS error", async () => {
    const user = await createUser("dup");
    const res = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: user.user, password: "x-other" } });
    expect(res.status).toBe(400);
    expect(res.meta).toEqual({ status: "failure", statuscode: 102, message: "User already exists" });
  });

  it("forbids non-admins", async () => {
    const user = await createUser("plain");
    const res = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: user, body: { userid: unique("x"), password: "pw-123456" } });
    expect(res.status).toBe(403);
    expect(res.meta.status).toBe("failure");
    const search = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: user });
    expect(search.status).toBe(403);
  });

  it("answers bad input with 400 and creates nothing", async () => {
    const bad = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: "has/slash", password: "pw" } });
    expect(bad.status).toBe(400);
    expect(bad.data.error).toBe("userid");
    const missing = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { password: "pw" } });
    expect(missing.status).toBe(400);
    const wrongType = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: 42, password: "pw" } });
    expect(wrongType.status).toBe(400);
    const huge = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: "x".repeat(65), password: "pw" } });
    expect(huge.status).toBe(400);
    const list = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: ADMIN, query: { search: "has/slash" } });
    expect(list.data.users).toEqual([]);
    const missingGroup = await ocs("POST", "/ocs/v2.php/cloud/users", {
      auth: ADMIN,
      body: { userid: unique("nog"), password: "pw-1234", groups: ["no-such-group"] },
    });
    expect(missingGroup.status).toBe(400);
  });

  it("searches, groups and deletes users", async () => {
    const group = unique("grp");
    await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group } });
    const dupGroup = await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group } });
    expect(dupGroup.status).toBe(400);
    const user = await createUser("carol");
    const search = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: ADMIN, query: { search: user.user } });
    expect(search.data).toEqual({ users: [user.user] });

    expect((await ocs("POST", `/ocs/v2.php/cloud/users/${user.user}/groups`, { auth: ADMIN, body: { groupid: group } })).status).toBe(200);
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${user.user}`, { auth: ADMIN })).data.groups).toEqual([group]);
    expect((await ocs("DELETE", `/ocs/v2.php/cloud/users/${user.user}/groups`, { auth: ADMIN, body: { groupid: group } })).status).toBe(200);
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${user.user}`, { auth: ADMIN })).data.groups).toEqual([]);
    const noGroup = await ocs("POST", `/ocs/v2.php/cloud/users/${user.user}/groups`, { auth: ADMIN, body: { groupid: "nope-group" } });
    expect(noGroup.status).toBe(400);

    expect((await ocs("DELETE", `/ocs/v2.php/cloud/users/${user.user}`, { auth: ADMIN })).status).toBe(200);
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${user.user}`, { auth: ADMIN })).status).toBe(404);
    expect((await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: user })).status).toBe(401);
  });
});

describe("Basic auth", () => {
  it("works with the login password and with an app password", async () => {
    const user = await createUser("dave");
    const issued = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: user });
    expect(issued.status).toBe(200);
    const appPassword = issued.data.apppassword as string;
    expect(appPassword).toMatch(/^[A-Za-z0-9]{72}$/);
    const viaApp = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: user.user, password: appPassword } });
    expect(viaApp.status).toBe(200);
    // An app password cannot mint further app passwords.
    const again = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: { user: user.user, password: appPassword } });
    expect(again.status).toBe(403);
    // An app password belongs to one account only.
    const other = await createUser("eve");
    const stolen = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: other.user, password: appPassword } });
    expect(stolen.status).toBe(401);
  });

  it("answers a wrong password with 401/997, then throttles with 429", async () => {
    const user = await createUser("frank");
    const wrong = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: user.user, password: "wrong" } });
    expect(wrong.status).toBe(401);
    expect(wrong.meta).toEqual({ status: "failure", statuscode: 997, message: "Current user is not logged in" });
    for (let i = 0; i < 4; i++) await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: user.user, password: `wrong${i}` } });
    const throttled = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: user });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("rejects malformed Basic headers", async () => {
    const res = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { headers: { Authorization: "Basic !!!" } });
    expect(res.status).toBe(401);
  });
});

describe("DELETE /cloud/groups/{groupid}", () => {
  it("deletes a group for administrators (101 unknown); its conversations lose it and the members it alone let in", async () => {
    const group = unique("delgrp");
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group } })).status).toBe(200);
    const owner = await createUser("delgrpowner");
    const member = await createUser("delgrpmember", { groups: [group] });
    const created = await ocs("POST", "/ocs/v2.php/apps/spreed/api/v4/room", { auth: owner, body: { roomType: 2, roomName: "Doomed group", source: "groups", invite: group } });
    const token = created.data.token as string;
    expect((await ocs("DELETE", `/ocs/v2.php/cloud/groups/${group}`, { auth: owner })).status).toBe(403);
    expect((await ocs("DELETE", `/ocs/v2.php/cloud/groups/${group}`, { auth: ADMIN })).status).toBe(200);
    const unknown = await ocs("DELETE", `/ocs/v2.php/cloud/groups/${group}`, { auth: ADMIN });
    expect([unknown.status, unknown.meta.statuscode]).toEqual([400, 101]);
    const left = (await ocs("GET", `/ocs/v2.php/apps/spreed/api/v4/room/${token}/participants`, { auth: owner })).data as { actorType: string; actorId: string }[];
    expect(left.map((p) => `${p.actorType}/${p.actorId}`)).toEqual([`users/${owner.user}`]);
    expect(((await ocs("GET", "/ocs/v2.php/apps/spreed/api/v4/room", { auth: member })).data as { token: string }[]).map((r) => r.token)).not.toContain(token);
    // Re-creating the group does not bring old conversations back to new members.
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group } })).status).toBe(200);
    expect((await ocs("POST", `/ocs/v2.php/cloud/users/${member.user}/groups`, { auth: ADMIN, body: { groupid: group } })).status).toBe(200);
    expect(((await ocs("GET", "/ocs/v2.php/apps/spreed/api/v4/room", { auth: member })).data as { token: string }[]).map((r) => r.token)).not.toContain(token);
  });
});
