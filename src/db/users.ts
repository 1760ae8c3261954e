/** Users, groups and app passwords in D1. */
import { and, count, desc, eq, inArray, like, or, sql } from "drizzle-orm";
import { forgetVerifiedAppPassword, forgetVerifiedUser } from "../auth/verified";
import { inChunks } from "./chunks";
import type { Db } from "./client";
import { appPasswords, groupMembers, groups, users, type UserRow } from "./schema";

export interface NewUser {
  userid: string;
  displayName: string;
  email?: string;
  passwordHash: string | null;
  isAdmin?: boolean;
  firstname?: string;
  lastname?: string;
  oidcIssuer?: string | null;
  oidcSub?: string | null;
}

export async function createUser(db: Db, input: NewUser): Promise<UserRow> {
  const [first, ...rest] = input.displayName.trim().split(/\s+/);
  const row = {
    id: crypto.randomUUID(),
    userid: input.userid,
    displayName: input.displayName,
    email: input.email ?? "",
    firstname: input.firstname ?? first ?? "",
    lastname: input.lastname ?? rest.join(" "),
    passwordHash: input.passwordHash,
    isAdmin: input.isAdmin ?? false,
    oidcIssuer: input.oidcIssuer ?? null,
    oidcSub: input.oidcSub ?? null,
  };
  const [created] = await db.insert(users).values(row).returning();
  return created as UserRow;
}

/** Login names match regardless of case, as in Nextcloud (index users_userid_nocase). */
export async function findUserByLogin(db: Db, userid: string): Promise<UserRow | undefined> {
  return db.query.users.findFirst({ where: sql`lower(${users.userid}) = lower(${userid})` });
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.query.users.findFirst({ where: eq(users.id, id) });
}

export async function findUsersByIds(db: Db, ids: string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return inChunks(ids, (chunk) => db.select().from(users).where(inArray(users.id, chunk)));
}

export async function findUsersByLogins(db: Db, logins: string[]): Promise<UserRow[]> {
  if (logins.length === 0) return [];
  return inChunks(logins, (chunk) => db.select().from(users).where(inArray(users.userid, chunk)));
}

export async function findUserByOidc(db: Db, issuer: string, sub: string): Promise<UserRow | undefined> {
  return db.query.users.findFirst({ where: and(eq(users.oidcIssuer, issuer), eq(users.oidcSub, sub)) });
}

export async function searchUsers(db: Db, term: string, limit = 100): Promise<UserRow[]> {
  const escaped = term.replace(/[\\%_]/g, (ch) => `\\${ch}`);
  const pattern = `%${escaped}%`;
  const where = term ? or(like(users.userid, pattern), like(users.displayName, pattern), like(users.email, pattern)) : undefined;
  return db.select().from(users).where(where).orderBy(users.userid).limit(limit);
}

export async function deleteUser(db: Db, id: string): Promise<void> {
  forgetVerifiedUser(id);
  await db.delete(users).where(eq(users.id, id));
}

export async function findGroup(db: Db, id: string) {
  return db.query.groups.findFirst({ where: eq(groups.id, id) });
}

export async function renameGroup(db: Db, id: string, displayName: string) {
  await db.update(groups).set({ displayName }).where(eq(groups.id, id));
}

export async function createGroup(db: Db, id: string, displayName: string) {
  await db.insert(groups).values({ id, displayName });
}

export async function userGroups(db: Db, userId: string): Promise<string[]> {
  const rows = await db.select({ id: groupMembers.groupId }).from(groupMembers).where(eq(groupMembers.userId, userId));
  return rows.map((r) => r.id);
}

export async function groupMemberIds(db: Db, groupId: string): Promise<string[]> {
  const rows = await db.select({ id: groupMembers.userId }).from(groupMembers).where(eq(groupMembers.groupId, groupId));
  return rows.map((r) => r.id);
}

/** Deletes a group and its memberships (explicitly, in one batch, whatever the foreign keys do). */
export async function deleteGroup(db: Db, id: string) {
  await db.batch([db.delete(groupMembers).where(eq(groupMembers.groupId, id)), db.delete(groups).where(eq(groups.id, id))]);
}

export async function addToGroup(db: Db, groupId: string, userId: string) {
  await db.insert(groupMembers).values({ groupId, userId }).onConflictDoNothing();
}

export async function removeFromGroup(db: Db, groupId: string, userId: string) {
  await db.delete(groupMembers).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
}

export async function insertAppPassword(db: Db, userId: string, tokenHash: string, name: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.insert(appPasswords).values({ id, userId, tokenHash, name: name.slice(0, 300) });
  return id;
}

export async function listAppPasswords(db: Db, userId: string) {
  return db.select().from(appPasswords).where(eq(appPasswords.userId, userId)).orderBy(desc(appPasswords.createdAt));
}

/** Revokes one of the user's app passwords (its push device goes with it); false when there is none. */
export async function deleteAppPassword(db: Db, userId: string, id: string): Promise<boolean> {
  forgetVerifiedAppPassword(id);
  const gone = await db.delete(appPasswords).where(and(eq(appPasswords.id, id), eq(appPasswords.userId, userId))).returning({ id: appPasswords.id });
  return gone.length > 0;
}

export async function findAppPassword(db: Db, tokenHash: string) {
  return db.query.appPasswords.findFirst({ where: eq(appPasswords.tokenHash, tokenHash) });
}

export async function updateUser(db: Db, id: string, fields: Partial<Omit<UserRow, "id" | "createdAt">>): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ ...fields, updatedAt: Math.floor(Date.now() / 1000) })
    .where(eq(users.id, id))
    .returning();
  forgetVerifiedUser(id);
  return row;
}

/** One page of all users, newest id first as the reference orders them, and the total count. */
export async function listUsersPage(db: Db, limit: number, offset: number): Promise<{ rows: UserRow[]; total: number }> {
  const [rows, [totals]] = await Promise.all([
    db.select().from(users).orderBy(desc(users.id)).limit(limit).offset(offset),
    db.select({ total: count() }).from(users),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/**
 * Autocomplete: users whose display name, "first last" name or e-mail contains `term`
 * (case-insensitive), display names that start with it first.
 */
export async function findUsersByNameOrEmail(db: Db, term: string, limit: number): Promise<UserRow[]> {
  const needle = term.trim().toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`);
  if (!needle) return [];
  const contains = `%${needle}%`;
  const displayName = sql`lower(${users.displayName})`;
  const fullName = sql`lower(${users.firstname} || ' ' || ${users.lastname})`;
  return db
    .select()
    .from(users)
    .where(
      or(
        sql`${displayName} like ${contains} escape '\\'`,
        sql`${fullName} like ${contains} escape '\\'`,
        sql`lower(${users.email}) like ${contains} escape '\\'`,
      ),
    )
    .orderBy(sql`${displayName} like ${`${needle}%`} escape '\\' desc`, displayName, users.id)
    .limit(limit);
}

/** Each user with the groups they are in now (who stays in a room whose group attendee they lost). */
export async function usersWithGroups(db: Db, userIds: string[]): Promise<{ userUuid: string; groups: string[] }[]> {
  const groupsOf = new Map<string, string[]>(userIds.map((id) => [id, []]));
  for (const r of await inChunks(userIds, (chunk) => db.select().from(groupMembers).where(inArray(groupMembers.userId, chunk)))) groupsOf.get(r.userId)?.push(r.groupId);
  return userIds.map((id) => ({ userUuid: id, groups: groupsOf.get(id) ?? [] }));
}
