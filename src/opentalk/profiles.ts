/** OpenTalk user objects: PublicUserProfile (anyone signed in) and PrivateUserProfile (the user only). */
import { z } from "@hono/zod-openapi";
import { TARIFF_STATUSES, type TariffStatus } from "../db/tariffs";
import type { UserRow } from "../db/schema";
import { md5Hex } from "../lib/crypto";

/** The reference's default `avatar.libravatar_url`; the MD5 of the e-mail address is appended. */
export const LIBRAVATAR_URL = "https://seccdn.libravatar.org/avatar/";

export const PublicUserProfileSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    title: z.string(),
    firstname: z.string(),
    lastname: z.string(),
    display_name: z.string(),
    avatar_url: z.string(),
  })
  .openapi("PublicUserProfile");

export const PrivateUserProfileSchema = PublicUserProfileSchema.extend({
  dashboard_theme: z.string(),
  conference_theme: z.string(),
  language: z.string(),
  tariff_status: z.enum(TARIFF_STATUSES),
}).openapi("PrivateUserProfile");

export type PublicUserProfile = z.infer<typeof PublicUserProfileSchema>;
export type PrivateUserProfile = z.infer<typeof PrivateUserProfileSchema>;

export async function avatarUrl(email: string): Promise<string> {
  return `${LIBRAVATAR_URL}${await md5Hex(email.trim().toLowerCase())}`;
}

export async function publicUserProfile(user: UserRow): Promise<PublicUserProfile> {
  return {
    id: user.id,
    email: user.email,
    title: user.title,
    firstname: user.firstname,
    lastname: user.lastname,
    display_name: user.displayName,
    avatar_url: await avatarUrl(user.email),
  };
}

export async function privateUserProfile(user: UserRow): Promise<PrivateUserProfile> {
  return {
    ...(await publicUserProfile(user)),
    dashboard_theme: user.dashboardTheme,
    conference_theme: user.conferenceTheme,
    language: user.language,
    tariff_status: tariffStatus(user.tariffStatus),
  };
}

function tariffStatus(value: string): TariffStatus {
  return (TARIFF_STATUSES as readonly string[]).includes(value) ? (value as TariffStatus) : "default";
}
