/** Talk-side plumbing: the caller as the room DO sees it, token → room resolution, outcomes → OCS. */
import { currentUser, type AppContext } from "../lib/context";
import { sha256Hex } from "../lib/crypto";
import { OcsError } from "../lib/errors";
import { resolveToken, roomStub } from "../room/directory";
import { FORBIDDEN, type Caller, type Outcome } from "../room/outcome";

export const TALK_V4 = "/ocs/v2.php/apps/spreed/api/v4";
export const TALK_V1 = "/ocs/v2.php/apps/spreed/api/v1";
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
  return { ...found, token, stub: roomStub(c.env, found.id) };
}

/** The room and the acting caller, the two things every room endpoint starts from. */
export async function talkRoom(c: AppContext, token: string | undefined) {
  const room = await roomByToken(c, token ?? "");
  return { ...room, caller: await talkCaller(c) };
}

/**
 * The value of a room operation, or the OCS error it stands for. An unknown room, a caller who is
 * not a participant or has no session, and missing moderator rights answer with empty data, as the
 * reference's middleware does; every other failure names its reason as `{error}`. RPC wraps results in Disposable, which defeats union narrowing, hence
 * the cast back to the declared type.
 */
const BLANK_REASONS = new Set(["room", "session", FORBIDDEN]);

export function unwrap<T>(result: Outcome<T>): T {
  const outcome = result as Outcome<T>;
  if (outcome.ok) return outcome.value;
  if (outcome.data !== undefined) throw new OcsError(outcome.status, outcome.data);
  if (BLANK_REASONS.has(outcome.reason)) throw new OcsError(outcome.status, []);
  throw new OcsError(outcome.status, { error: outcome.reason });
}
