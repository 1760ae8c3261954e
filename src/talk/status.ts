/** User statuses in Talk objects (`includeStatus=true`): participants and one-to-one partners. */
import { publicStatuses } from "../cloud/user-status.routes";
import { database } from "../db/client";
import { findUsersByLogins } from "../db/users";

export interface StatusFields {
  status: string;
  statusIcon: string | null;
  statusMessage: string | null;
  statusClearAt: number | null;
}

/** A user without a status, as the reference shows them. */
export const OFFLINE: StatusFields = { status: "offline", statusIcon: null, statusMessage: null, statusClearAt: null };

/** The public status of each login in `logins` (users without one are offline). */
export async function statusesByLogin(env: Env, logins: string[]): Promise<Map<string, StatusFields>> {
  const unique = [...new Set(logins)];
  const db = database(env);
  const users = await findUsersByLogins(db, unique);
  const statuses = await publicStatuses(db, users.map((u) => u.id));
  const out = new Map<string, StatusFields>();
  for (const u of users) {
    const s = statuses.get(u.id);
    if (s) out.set(u.userid, { status: s.status, statusIcon: s.icon, statusMessage: s.message, statusClearAt: s.clearAt });
  }
  return out;
}
