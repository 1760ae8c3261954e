/**
 * Seed data shared by several scenarios, created once per run through EdgeTalk's own APIs
 * (provisioning as the administrator, conversations as users) and memoised on the run context.
 */
import { createGroup, createRoom, createUser, mapLimit, OcsUser } from "../lib/ocs.mjs";

/** Password of every seeded user (the benchmark database is thrown away after the run). */
export const PASSWORD = "bench-password-not-secret";

/**
 * `count` users bench-<prefix>-01.. in a group of the same name, and one group conversation owned
 * by the first user with the whole group invited: every user is a regular member (participant
 * type 3), as when someone opens a conversation they belong to.
 * Resolves with { token, users: [{ userid, password }] }.
 */
export function groupRoom(ctx, prefix, count) {
  return ctx.once(`group-room:${prefix}:${count}`, async () => {
    const group = `bench-${prefix}`;
    await createGroup(ctx.admin, group);
    const users = Array.from({ length: count }, (_, i) => ({ userid: `${group}-${String(i + 1).padStart(2, "0")}`, password: PASSWORD }));
    // Each creation hashes a password (PBKDF2): a few in parallel.
    await mapLimit(users, 4, (u) => createUser(ctx.admin, u.userid, u.password, [group]));
    const owner = new OcsUser(ctx.http.edgetalk, users[0].userid, PASSWORD);
    const token = await createRoom(owner, `Bench ${prefix}`, group);
    return { token, users };
  });
}
