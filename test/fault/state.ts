/**
 * State snapshots for the fault sweeps: every D1 table and every table in the storage of the given
 * room Durable Objects, row by row. Two snapshots taken around a batch of rejected requests must be
 * equal: a 4xx must not have changed anything.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { roomStub } from "../../src/room/directory";

export type Snapshot = Record<string, string[]>;

const INTERNAL = /^(sqlite_|_cf_|d1_migrations$)/;
/**
 * Throttle counters are meant to change on rejected requests (unknown room tokens count against
 * the caller's address), so they are not application state for these comparisons.
 */
const THROTTLE_COUNTERS = "login_failures";
/**
 * A room's pending index records are housekeeping: its alarm settles them on its own schedule (a
 * room made for an event checks for its event after 30 s), whatever requests come in meanwhile.
 */
const ROOM_HOUSEKEEPING = "index_pending";

function rows(list: Record<string, unknown>[]): string[] {
  return list.map((r) => JSON.stringify(r, (_k, v) => (v instanceof ArrayBuffer ? [...new Uint8Array(v)] : v))).sort();
}

export async function d1Snapshot(): Promise<Snapshot> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all<{ name: string }>();
  const out: Snapshot = {};
  for (const { name } of tables.results) {
    if (INTERNAL.test(name) || name === THROTTLE_COUNTERS) continue;
    out[`d1.${name}`] = rows((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  }
  return out;
}

export async function roomSnapshot(roomId: string): Promise<Snapshot> {
  const dump = await runInDurableObject(roomStub(env, roomId), (_instance, state) => {
    const sql = state.storage.sql;
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const { name } of sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray()) {
      if (INTERNAL.test(name) || name === ROOM_HOUSEKEEPING) continue;
      out[name] = sql.exec(`SELECT * FROM "${name}"`).toArray() as Record<string, unknown>[];
    }
    return out;
  });
  return Object.fromEntries(Object.entries(dump).map(([name, list]) => [`room ${roomId}.${name}`, rows(list)]));
}

/** D1 plus the storage of each room object. */
export async function snapshot(roomIds: string[]): Promise<Snapshot> {
  const out = await d1Snapshot();
  for (const id of roomIds) Object.assign(out, await roomSnapshot(id));
  return out;
}
