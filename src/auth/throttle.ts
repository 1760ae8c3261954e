/**
 * Failed-login throttling per account and per client address (D1, fixed window).
 * After `loginMaxFailures` failures within `loginWindow` seconds, further attempts get 429.
 */
import { eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { loginFailures } from "../db/schema";
import type { Config } from "../lib/config";

export function throttleKeys(account: string, address: string): string[] {
  return [`account:${account.toLowerCase()}`, `address:${address}`];
}

/** Seconds until the caller may try again, or 0 when not throttled. */
export async function throttledFor(db: Db, cfg: Config, keys: string[], now = Math.floor(Date.now() / 1000)): Promise<number> {
  const rows = await db
    .select()
    .from(loginFailures)
    .where(sql`${loginFailures.key} in ${keys}`);
  let wait = 0;
  for (const row of rows) {
    const end = row.windowStart + cfg.loginWindow;
    if (row.count >= cfg.loginMaxFailures && end > now) wait = Math.max(wait, end - now);
  }
  return wait;
}

export async function recordFailure(db: Db, cfg: Config, keys: string[], now = Math.floor(Date.now() / 1000)): Promise<void> {
  const windowStartBefore = now - cfg.loginWindow;
  await db.batch(
    keys.map((key) =>
      db
        .insert(loginFailures)
        .values({ key, count: 1, windowStart: now })
        .onConflictDoUpdate({
          target: loginFailures.key,
          set: {
            count: sql`case when ${loginFailures.windowStart} <= ${windowStartBefore} then 1 else ${loginFailures.count} + 1 end`,
            windowStart: sql`case when ${loginFailures.windowStart} <= ${windowStartBefore} then ${now} else ${loginFailures.windowStart} end`,
          },
        }),
    ) as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]],
  );
}

export async function clearFailures(db: Db, account: string): Promise<void> {
  await db.delete(loginFailures).where(eq(loginFailures.key, `account:${account.toLowerCase()}`));
}
