/**
 * OpenTalk tariffs in D1: the default tariff, per-user assignment, and the `Tariff` resource the
 * API returns. A user's tariff is `users.tariff_id`; without one (or when it no longer exists) the
 * default tariff applies. A room's tariff is its owner's: `tariffForUser(db, room.createdBy)`.
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "./client";
import { tariffs, users, type TariffRow, type UserRow } from "./schema";

/** The tariff every user has unless another one is assigned (the reference's static default). */
export const DEFAULT_TARIFF_NAME = "OpenTalkDefaultTariff";
export const TARIFF_STATUSES = ["default", "paid", "downgraded"] as const;
export type TariffStatus = (typeof TARIFF_STATUSES)[number];

/** Namespace of features given without a module, and the separator of `module::feature` ids. */
export const DEFAULT_MODULE = "core";
const SEPARATOR = "::";

/**
 * The signaling modules this server provides, each with its features: exactly what it serves
 * (no breakout rooms, so no `breakout` module; `livekit` answers `livekit_unavailable` when no
 * LiveKit server is configured, as the reference's module does when it cannot reach one). A tariff can only switch these off; `modules` in
 * the resource lists what remains.
 */
export const PROVIDED_MODULES: Readonly<Record<string, readonly string[]>> = {
  // Names as the reference controller lists its modules (`opentalk-controller modules list`).
  // guests_allowed: invite-code guests may enter (the web app offers guest links only with it).
  core: ["call_in", "guests_allowed"],
  chat: [],
  echo: [],
  livekit: [],
  moderation: [],
};

export interface TariffResource {
  id: string;
  name: string;
  quotas: Record<string, number>;
  /** Deprecated in the reference in favour of `modules`; still sent for older clients. */
  enabled_modules: string[];
  /** Deprecated likewise; `core::` features are listed with and without the prefix. */
  disabled_features: string[];
  modules: Record<string, { features: string[] }>;
}

export interface NewTariff {
  name: string;
  quotas?: Record<string, number>;
  disabledModules?: string[];
  disabledFeatures?: string[];
}

/** `feature` → `core::feature`; `module::feature` stays. */
export function normalizeFeatureId(id: string): string {
  return id.includes(SEPARATOR) ? id : `${DEFAULT_MODULE}${SEPARATOR}${id}`;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function tariffResource(row: TariffRow, provided: Readonly<Record<string, readonly string[]>> = PROVIDED_MODULES): TariffResource {
  const disabledModules = new Set(row.disabledModules);
  const disabledFeatures = new Set(row.disabledFeatures.map(normalizeFeatureId));
  const modules: Record<string, { features: string[] }> = {};
  for (const name of Object.keys(provided).sort(byName)) {
    if (disabledModules.has(name)) continue;
    const features = (provided[name] ?? []).filter((f) => !disabledFeatures.has(`${name}${SEPARATOR}${f}`));
    modules[name] = { features: [...features].sort(byName) };
  }
  const prefix = `${DEFAULT_MODULE}${SEPARATOR}`;
  const disabledNames = [...disabledFeatures].flatMap((id) => (id.startsWith(prefix) ? [id, id.slice(prefix.length)] : [id]));
  return {
    id: row.id,
    name: row.name,
    quotas: { ...row.quotas },
    enabled_modules: Object.keys(modules),
    disabled_features: disabledNames.sort(byName),
    modules,
  };
}

/** Whether a tariff resource leaves `module`'s `feature` on (e.g. `core`/`call_in` for SIP). */
export function tariffAllows(tariff: TariffResource, module: string, feature: string): boolean {
  return tariff.modules[module]?.features.includes(feature) ?? false;
}

export async function findTariffById(db: Db, id: string): Promise<TariffRow | undefined> {
  return db.query.tariffs.findFirst({ where: eq(tariffs.id, id) });
}

export async function findTariffByName(db: Db, name: string): Promise<TariffRow | undefined> {
  return db.query.tariffs.findFirst({ where: eq(tariffs.name, name) });
}

export async function listTariffs(db: Db): Promise<TariffRow[]> {
  return db.select().from(tariffs).orderBy(asc(tariffs.name));
}

/** Inserts a tariff; `null` when the name is taken. */
export async function createTariff(db: Db, input: NewTariff): Promise<TariffRow | null> {
  const [row] = await db
    .insert(tariffs)
    .values({
      id: crypto.randomUUID(),
      name: input.name,
      quotas: input.quotas ?? {},
      disabledModules: [...new Set(input.disabledModules ?? [])],
      disabledFeatures: [...new Set((input.disabledFeatures ?? []).map(normalizeFeatureId))],
    })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

/** The default tariff, created on first use (concurrent first uses agree through the unique name). */
export async function defaultTariff(db: Db): Promise<TariffRow> {
  const existing = await findTariffByName(db, DEFAULT_TARIFF_NAME);
  if (existing) return existing;
  await createTariff(db, { name: DEFAULT_TARIFF_NAME });
  const created = await findTariffByName(db, DEFAULT_TARIFF_NAME);
  if (!created) throw new Error("default tariff could not be created");
  return created;
}

/** The stored tariff of a user: the assigned one if it exists, else the default. */
export async function tariffRowForUser(db: Db, userUuid: string): Promise<TariffRow> {
  const [row] = await db
    .select({ tariff: tariffs })
    .from(users)
    .innerJoin(tariffs, eq(users.tariffId, tariffs.id))
    .where(eq(users.id, userUuid))
    .limit(1);
  return row?.tariff ?? defaultTariff(db);
}

/** The `Tariff` resource of a user (GET /v1/users/me/tariff) or of a room's owner (GET /v1/rooms/{id}/tariff). */
export async function tariffForUser(db: Db, userUuid: string): Promise<TariffResource> {
  return tariffResource(await tariffRowForUser(db, userUuid));
}

/** Assigns a tariff and its status to a user; `undefined` when the user does not exist. */
export async function assignTariff(db: Db, userUuid: string, tariffId: string, status: TariffStatus): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ tariffId, tariffStatus: status, updatedAt: Math.floor(Date.now() / 1000) })
    .where(eq(users.id, userUuid))
    .returning();
  return row;
}
