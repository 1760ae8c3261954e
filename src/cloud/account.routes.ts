/**
 * The account endpoints the Talk clients call right after login: the user's own profile
 * (`/cloud/user`, v1 and v2), their own entry and groups in the provisioning tree, display-name and
 * e-mail changes, group display names, and revoking the app password in use.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database, type Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { deleteAppPassword, findGroup, findUserByLogin, renameGroup, updateUser, userGroups } from "../db/users";
import { currentUser, type AppContext, type AppEnv } from "../lib/context";
import { OcsError } from "../lib/errors";
import { ocsOutputFormat, ocsRoute } from "../lib/route";
import { renderOcs } from "../ocs/envelope";

const TAGS = ["Nextcloud provisioning"];

/** The user data Nextcloud's provisioning API returns (the fields the clients read, with their types). */
export async function userData(db: Db, user: UserRow) {
  const groups = await userGroups(db, user.id);
  if (user.isAdmin && !groups.includes("admin")) groups.unshift("admin");
  return {
    enabled: true,
    storageLocation: "",
    id: user.userid,
    lastLogin: 0,
    backend: "Database",
    subadmin: [],
    quota: { free: -3, used: 0, total: -3, relative: 0, quota: -3 },
    manager: "",
    email: user.email || null,
    additional_mail: [],
    displayname: user.displayName,
    "display-name": user.displayName,
    phone: "",
    address: "",
    website: "",
    twitter: "",
    fediverse: "",
    organisation: "",
    role: "",
    headline: "",
    biography: "",
    profile_enabled: "1",
    groups,
    language: user.language.split("-")[0] ?? "en",
    locale: "",
    notify_email: null,
    backendCapabilities: { setDisplayName: true, setPassword: true },
  };
}

/** The caller may read or change `userid`: themselves, or an administrator. */
async function selfOrAdmin(c: AppContext, userid: string | undefined): Promise<UserRow> {
  const me = currentUser(c);
  if (!me) throw new OcsError(401, [], "Current user is not logged in", 997);
  const db = database(c.env);
  if (me.userid.toLowerCase() === (userid ?? "").toLowerCase()) return me;
  if (!me.isAdmin) throw new OcsError(403, [], "Logged in account must be an administrator");
  const user = await findUserByLogin(db, userid ?? "");
  if (!user) throw new OcsError(404, [], "User does not exist", 404);
  return user;
}

const EditUserParams = z.object({ key: z.string().min(1).max(64), value: z.string().max(1000) });
const EditGroupParams = z.object({ key: z.string().min(1).max(64), value: z.string().max(255) });

export function registerAccountRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(app, { method: "get", path: "/ocs/v2.php/cloud/user", summary: "The signed-in user", tags: TAGS, auth: "user" }, async (c) => {
    return { data: await userData(database(c.env), currentUser(c) as UserRow) };
  });

  // OCS v1: HTTP 200 with statuscode 100 on success, as Nextcloud answers v1 requests.
  app.get("/ocs/v1.php/cloud/user", async (c) => {
    const user = currentUser(c);
    if (!user) throw new OcsError(401, [], "Current user is not logged in", 997);
    return renderOcs(ocsOutputFormat(c), 200, await userData(database(c.env), user), { status: "ok", statuscode: 100, message: "OK" });
  });

  ocsRoute(app, { method: "get", path: "/ocs/v2.php/cloud/users/{userid}", summary: "Get a user (themselves, or any as an administrator)", tags: TAGS, auth: "user" }, async (c, _p, path) => {
    const user = await selfOrAdmin(c, path.userid);
    return { data: await userData(database(c.env), user) };
  });

  ocsRoute(app, { method: "get", path: "/ocs/v2.php/cloud/users/{userid}/groups", summary: "A user's groups (themselves, or any as an administrator)", tags: TAGS, auth: "user" }, async (c, _p, path) => {
    const user = await selfOrAdmin(c, path.userid);
    const groups = await userGroups(database(c.env), user.id);
    if (user.isAdmin && !groups.includes("admin")) groups.unshift("admin");
    return { data: { groups } };
  });

  ocsRoute(
    app,
    { method: "put", path: "/ocs/v2.php/cloud/users/{userid}", summary: "Change a user's display name or e-mail (themselves, or any as an administrator)", tags: TAGS, auth: "user", params: EditUserParams },
    async (c, p, path) => {
      const user = await selfOrAdmin(c, path.userid);
      const db = database(c.env);
      const value = p.value.trim();
      switch (p.key) {
        case "display":
        case "displayname": {
          if (!value || [...value].length > 64) throw new OcsError(400, [], "Invalid display name", 102);
          const [first, ...rest] = value.split(/\s+/);
          await updateUser(db, user.id, { displayName: value, firstname: first ?? "", lastname: rest.join(" ") });
          break;
        }
        case "email": {
          if (value !== "" && !z.email().safeParse(value).success) throw new OcsError(400, [], "Invalid email address", 102);
          await updateUser(db, user.id, { email: value });
          break;
        }
        default:
          // Nextcloud answers an unknown or unsupported key with 103.
          throw new OcsError(400, [], "Unsupported key", 103);
      }
      return { data: [] };
    },
  );

  ocsRoute(
    app,
    { method: "put", path: "/ocs/v2.php/cloud/groups/{groupid}", summary: "Change a group's display name", tags: TAGS, auth: "admin", params: EditGroupParams },
    async (c, p, path) => {
      const db = database(c.env);
      if (!(await findGroup(db, path.groupid ?? ""))) throw new OcsError(404, [], "Group does not exist", 404);
      if (p.key !== "displayname") throw new OcsError(400, [], "Unsupported key", 101);
      const value = p.value.trim();
      if (!value) throw new OcsError(400, [], "Invalid display name", 101);
      await renameGroup(db, path.groupid ?? "", value);
      return { data: [] };
    },
  );

  ocsRoute(app, { method: "delete", path: "/ocs/v2.php/core/apppassword", summary: "Revoke the app password in use", tags: ["Nextcloud"], auth: "user" }, async (c) => {
    const identity = c.get("identity");
    if (identity.kind !== "user" || identity.via !== "app-password" || !identity.appPasswordId) {
      throw new OcsError(403, [], "no app password in use", 403);
    }
    await deleteAppPassword(database(c.env), identity.user.id, identity.appPasswordId);
    return { data: [] };
  });
}
