/** Talk-side plumbing: the caller as the room DO sees it, and token → room resolution. */
import { currentUser, type AppContext } from "../lib/context";
import { sha256Hex } from "../lib/crypto";
import { OcsError } from "../lib/errors";
import { resolveToken, roomStub } from "../room/directory";
import type { Caller } from "../room/outcome";

export const TALK_V4 = "/ocs/v2.php/apps/spreed/api/v4";
const TAB_ID = /^[A-Za-z0-9]{64}$/;

export async function talkCaller(c: AppContext): Promise<Caller> {
  const user = currentUser(c);
  const tab = c.req.header("x-nextcloud-talk-session-tab-id");
  const cookie = await sha256Hex(`talk:${c.get("cookieSession")}`);
  const base = { cookie, ...(tab && TAB_ID.test(tab) ? { tabId: tab } : {}) };
  if (user) return { ...base, kind: "user", userUuid: user.id, userid: user.userid, displayName: user.displayName };
  return { ...base, kind: "guest" };
}

/** The room's DO stub and ids, or an OCS 404 when the token is unknown. */
export async function roomByToken(c: AppContext, token: string) {
  const found = await resolveToken(c.env, token);
  if (!found) throw new OcsError(404, []);
  return { ...found, stub: roomStub(c.env, found.id) };
}
