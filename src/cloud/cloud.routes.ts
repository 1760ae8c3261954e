/** Nextcloud core endpoints: user/group provisioning (admin only), app passwords, capabilities, status. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { issueAppPassword } from "../auth/app-passwords";
import { issuerUrl } from "../auth/oidc";
import { LOGO_SVG, nextcloudCapabilities } from "./capabilities";
import { database } from "../db/client";
import {
  addToGroup,
  createGroup,
  createUser,
  deleteGroup,
  deleteUser,
  findGroup,
  groupMemberIds,
  findUserByLogin,
  removeFromGroup,
  searchUsers,
  usersWithGroups,
} from "../db/users";
import { config } from "../lib/config";
import { type AppEnv, currentUser } from "../lib/context";
import { hashPassword } from "../lib/crypto";
import { OcsError } from "../lib/errors";
import { ocsRoute } from "../lib/route";
import { roomsOfUser, roomsWithGroup } from "../db/rooms";
import { ParticipantType } from "../room/types";
import { roomStub } from "../room/directory";
import { helloV2PublicKey } from "../talk/standalone/auth";
import { capabilities } from "../talk/capabilities";
import { EDGETALK_VERSION } from "../version";

const USERID = /^[A-Za-z0-9_.@\-' ]{1,64}$/;
const TAGS = ["Nextcloud provisioning"];

const CreateUserParams = z.object({
  userid: z.string().regex(USERID, "user id may contain letters, digits and _.@-' (1-64 characters)"),
  password: z.string().min(1).max(469),
  displayName: z.string().max(64).optional(),
  email: z.union([z.email(), z.literal("")]).optional(),
  groups: z.array(z.string().min(1).max(64)).max(100).optional(),
});

export function registerCloudRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/status.php", (c) =>
    c.json({
      installed: true,
      maintenance: false,
      needsDbUpgrade: false,
      version: `${EDGETALK_VERSION.nextcloud}.0`,
      versionstring: EDGETALK_VERSION.nextcloudString,
      edition: "",
      productname: "EdgeTalk",
      extendedSupport: false,
    }),
  );

  ocsRoute(
    app,
    { method: "get", path: "/ocs/v2.php/cloud/capabilities", summary: "Server capabilities", tags: ["Nextcloud"], auth: "public" },
    async (c) => {
      const talk = capabilities(c.env, currentUser(c), await helloV2PublicKey(config(c.env).secret));
      return { data: { ...talk, capabilities: { ...talk.capabilities, ...nextcloudCapabilities(issuerUrl(config(c.env), c.req.url)) } } };
    },
  );

  app.get("/core/img/logo/logo.svg", () => new Response(LOGO_SVG, { headers: { "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400" } }));

  ocsRoute(app, { method: "post", path: "/ocs/v2.php/cloud/users", summary: "Create a user", tags: TAGS, auth: "admin", params: CreateUserParams }, async (c, p) => {
    const db = database(c.env);
    // Nextcloud's user manager refuses these before anything else (provisioning answers 101).
    if (p.userid !== p.userid.trim()) throw new OcsError(400, [], "Username contains whitespace at the beginning or at the end", 101);
    // Login names are unique regardless of case: "Alice" exists when "alice" does.
    const exists = () => new OcsError(400, [], "User already exists", 102);
    if (await findUserByLogin(db, p.userid)) throw exists();
    const groupIds = p.groups ?? [];
    for (const g of groupIds) if (!(await findGroup(db, g))) throw new OcsError(400, [], "group does not exist", 104);
    const passwordHash = await hashPassword(p.password);
    const user = await createUser(db, {
      userid: p.userid,
      displayName: p.displayName?.trim() || p.userid,
      email: p.email ?? "",
      passwordHash,
    }).catch((err: unknown) => {
      // Two concurrent creations of one name (in any case): the unique index decides.
      if (String((err as Error)?.message ?? err).includes("UNIQUE constraint failed")) throw exists();
      throw err;
    });
    for (const g of groupIds) await addToGroup(db, g, user.id);
    return { data: { id: user.userid } };
  });

  ocsRoute(
    app,
    { method: "get", path: "/ocs/v2.php/cloud/users", summary: "Search users", tags: TAGS, auth: "admin", params: z.object({ search: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).optional() }) },
    async (c, p) => ({ data: { users: (await searchUsers(database(c.env), p.search ?? "", p.limit ?? 100)).map((u) => u.userid) } }),
  );

  ocsRoute(app, { method: "delete", path: "/ocs/v2.php/cloud/users/{userid}", summary: "Delete a user", tags: TAGS, auth: "admin" }, async (c, _p, path) => {
    const db = database(c.env);
    const user = await findUserByLogin(db, path.userid ?? "");
    if (!user) throw new OcsError(404, [], "User does not exist", 404);
    if (user.id === currentUser(c)?.id) throw new OcsError(400, [], "Cannot delete yourself", 101);
    // Every room lets the user go first (one-to-one rooms stay for the partner), then the account goes.
    for (const { room } of await roomsOfUser(db, user.id)) await roomStub(c.env, room.id).userDeleted(user.userid, user.displayName);
    await deleteUser(db, user.id);
    return { data: [] };
  });

  ocsRoute(
    app,
    { method: "post", path: "/ocs/v2.php/cloud/groups", summary: "Create a group", tags: TAGS, auth: "admin", params: z.object({ groupid: z.string().regex(USERID), displayname: z.string().max(255).optional() }) },
    async (c, p) => {
      const db = database(c.env);
      if (await findGroup(db, p.groupid)) throw new OcsError(400, [], "group exists", 102);
      await createGroup(db, p.groupid, p.displayname?.trim() || p.groupid);
      return { data: [] };
    },
  );

  // Nextcloud's provisioning API: 101 for an unknown group, 102 for the admin group. The group's
  // conversations lose it, and its plain members without another attendee group leave them.
  ocsRoute(app, { method: "delete", path: "/ocs/v2.php/cloud/groups/{groupid}", summary: "Delete a group", tags: TAGS, auth: "admin" }, async (c, _p, path) => {
    const db = database(c.env);
    const groupId = path.groupid ?? "";
    if (!(await findGroup(db, groupId))) throw new OcsError(400, [], "", 101);
    if (groupId === "admin") throw new OcsError(400, [], "", 102);
    const members = await groupMemberIds(db, groupId);
    const rooms = await roomsWithGroup(db, groupId);
    await deleteGroup(db, groupId);
    const leavers = await usersWithGroups(db, members);
    // Each room follows on its own: one RPC per room, side by side.
    await Promise.all(rooms.map((id) => roomStub(c.env, id).pruneGroupLeavers(leavers, groupId)));
    return { data: [] };
  });

  const GroupParam = z.object({ groupid: z.string().min(1).max(64) });
  for (const method of ["post", "delete"] as const) {
    ocsRoute(
      app,
      { method, path: "/ocs/v2.php/cloud/users/{userid}/groups", summary: method === "post" ? "Add a user to a group" : "Remove a user from a group", tags: TAGS, auth: "admin", params: GroupParam },
      async (c, p, path) => {
        const db = database(c.env);
        if (!(await findGroup(db, p.groupid))) throw new OcsError(400, [], "Group does not exist", 102);
        const user = await findUserByLogin(db, path.userid ?? "");
        if (!user) throw new OcsError(400, [], "User does not exist", 103);
        if (method === "post") await addToGroup(db, p.groupid, user.id);
        else await removeFromGroup(db, p.groupid, user.id);
        // Conversations the group is an attendee of follow: the user joins them, or leaves them
        // unless they are a moderator there or another of their groups is an attendee too.
        const rooms = await roomsWithGroup(db, p.groupid);
        const leaver = method === "delete" ? (await usersWithGroups(db, [user.id]))[0] : null;
        const joiner = { actorType: "users" as const, actorId: user.userid, displayName: user.displayName, participantType: ParticipantType.User, userUuid: user.id };
        await Promise.all(rooms.map((id) => (leaver ? roomStub(c.env, id).pruneGroupLeavers([leaver]) : roomStub(c.env, id).addMembers([joiner]))));
        return { data: [] };
      },
    );
  }

  ocsRoute(app, { method: "get", path: "/ocs/v2.php/core/getapppassword", summary: "Issue an app password", tags: ["Nextcloud"], auth: "user" }, async (c) => {
    const identity = c.get("identity");
    if (identity.kind !== "user" || identity.via !== "password") throw new OcsError(403, [], "Only login passwords can issue app passwords", 403);
    const { token } = await issueAppPassword(database(c.env), config(c.env), identity.user, c.req.header("user-agent") ?? "");
    return { data: { apppassword: token } };
  });
}
