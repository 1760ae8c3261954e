/** Seeds the administrator account from EDGETALK_ADMIN_USER / EDGETALK_ADMIN_PASSWORD once per isolate. */
import type { Db } from "../db/client";
import { createUser, findUserByLogin } from "../db/users";
import type { Config } from "../lib/config";
import { hashPassword } from "../lib/crypto";

const seeded = new WeakMap<D1Database, Promise<void>>();

export function ensureAdmin(d1: D1Database, db: Db, cfg: Config): Promise<void> {
  let done = seeded.get(d1);
  if (!done) {
    done = seedAdmin(db, cfg).catch((err) => {
      seeded.delete(d1);
      throw err;
    });
    seeded.set(d1, done);
  }
  return done;
}

async function seedAdmin(db: Db, cfg: Config): Promise<void> {
  if (!cfg.adminPassword) return;
  if (await findUserByLogin(db, cfg.adminUser)) return;
  try {
    await createUser(db, {
      userid: cfg.adminUser,
      displayName: cfg.adminUser,
      passwordHash: await hashPassword(cfg.adminPassword),
      isAdmin: true,
    });
  } catch (err) {
    // Another isolate seeded it first.
    if (!(await findUserByLogin(db, cfg.adminUser))) throw err;
  }
}
