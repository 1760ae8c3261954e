/** OpenTalk `/v1/users`: profiles, the caller's settings and tariff, the user list and autocomplete. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { tariffForUser } from "../db/tariffs";
import { findUserById, findUsersByNameOrEmail, listUsersPage, updateUser } from "../db/users";
import { type AppContext, type AppEnv, currentUser } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { nonEmpty } from "./non-empty";
import { PageQuery, pageLinkHeader, pageOffset } from "./pagination";
import { PrivateUserProfileSchema, PublicUserProfileSchema, privateUserProfile, publicUserProfile } from "./profiles";
import { registerTariffAdminRoutes, TariffSchema } from "./tariffs.routes";

const TAGS = ["users"];
/** The reference answers at most this many autocomplete entries. */
export const MAX_FIND_RESULTS = 20;
const MIN_QUERY_LENGTH = 3;

/** RFC 5646 language tag (well-formed, "langtag" production, or a private-use tag). */
const LANGUAGE_TAG =
  /^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*(?:-[\da-wy-z](?:-[a-z\d]{2,8})+)*(?:-x(?:-[a-z\d]{1,8})+)?$|^x(?:-[a-z\d]{1,8})+$/i;

export function isLanguageTag(value: string): boolean {
  return LANGUAGE_TAG.test(value);
}

// null and absent both leave a setting as it is, so neither counts towards "non-empty".
const PatchUserBody = nonEmpty(
  z.object({
    title: z.string().max(255).nullish(),
    display_name: z
      .string()
      .max(255, { abort: true })
      .refine((v) => v.trim() !== "", { message: "display name must not be empty", params: { code: "invalid_length" } })
      .nullish(),
    language: z
      .string()
      .max(35, { abort: true })
      .refine(isLanguageTag, { message: "not an RFC 5646 language tag", params: { code: "invalid_value" } })
      .nullish(),
    dashboard_theme: z.string().max(128).nullish(),
    conference_theme: z.string().max(128).nullish(),
  }),
  (v) => v != null,
).openapi("PatchUserBody");

const FindEntrySchema = PublicUserProfileSchema.extend({ kind: z.literal("registered") }).openapi("UserFindResponseItem");

function me(c: AppContext) {
  const user = currentUser(c);
  if (!user) throw OpenTalkError.unauthorized();
  return user;
}

export function registerOpenTalkUserRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/users",
      summary: "Get all users visible to the caller",
      tags: TAGS,
      auth: "bearer",
      query: PageQuery,
      success: { status: 200, description: "PublicUserProfiles, with a page Link header", schema: z.array(PublicUserProfileSchema) },
    },
    async (c, { query }) => {
      const { rows, total } = await listUsersPage(database(c.env), query.per_page, pageOffset(query.page, query.per_page));
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total);
      if (link) c.header("Link", link);
      return c.json(await Promise.all(rows.map(publicUserProfile)));
    },
  );

  otRoute(
    app,
    { method: "get", path: "/v1/users/me", summary: "Get the current user's profile", tags: TAGS, auth: "bearer", success: { status: 200, description: "Profile", schema: PrivateUserProfileSchema } },
    async (c) => c.json(await privateUserProfile(me(c))),
  );

  otRoute(
    app,
    {
      method: "patch",
      path: "/v1/users/me",
      summary: "Patch the current user's settings",
      tags: TAGS,
      auth: "bearer",
      body: PatchUserBody,
      success: { status: 200, description: "The updated profile; a body that sets nothing is 422 `missing_values`", schema: PrivateUserProfileSchema },
    },
    async (c, { body }) => {
      const user = me(c);
      const fields = {
        ...(body.title != null ? { title: body.title } : {}),
        ...(body.display_name != null ? { displayName: body.display_name } : {}),
        ...(body.language != null ? { language: body.language } : {}),
        ...(body.dashboard_theme != null ? { dashboardTheme: body.dashboard_theme } : {}),
        ...(body.conference_theme != null ? { conferenceTheme: body.conference_theme } : {}),
      };
      const updated = await updateUser(database(c.env), user.id, fields);
      if (!updated) throw OpenTalkError.unauthorized();
      return c.json(await privateUserProfile(updated));
    },
  );

  otRoute(
    app,
    { method: "get", path: "/v1/users/me/tariff", summary: "Get the current user's tariff", tags: [...TAGS, "tariff"], auth: "bearer", success: { status: 200, description: "Tariff", schema: TariffSchema } },
    async (c) => c.json(await tariffForUser(database(c.env), me(c).id)),
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/users/find",
      summary: "Find users by name or e-mail (autocomplete)",
      tags: TAGS,
      auth: "bearer",
      query: z.object({ q: z.string().max(255).openapi({ description: "Matches display name, first and last name, and e-mail" }) }),
      success: { status: 200, description: `Up to ${MAX_FIND_RESULTS} matches`, schema: z.array(FindEntrySchema) },
    },
    async (c, { query }) => {
      if ([...query.q].length < MIN_QUERY_LENGTH) {
        throw OpenTalkError.badRequest("query must be at least 3 characters long", "query_too_short");
      }
      const found = await findUsersByNameOrEmail(database(c.env), query.q, MAX_FIND_RESULTS);
      return c.json(await Promise.all(found.map(async (u) => ({ kind: "registered" as const, ...(await publicUserProfile(u)) }))));
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/users/{id}",
      summary: "Get a user's public profile",
      tags: TAGS,
      auth: "bearer",
      params: z.object({ id: z.uuid() }),
      success: { status: 200, description: "Profile", schema: PublicUserProfileSchema },
    },
    async (c, { params }) => {
      const user = await findUserById(database(c.env), params.id.toLowerCase());
      if (!user) throw OpenTalkError.notFound();
      return c.json(await publicUserProfile(user));
    },
  );

  registerTariffAdminRoutes(app);
}
