/** Creating notifications: stored for the notifications API, and pushed to devices in the background. */
import { database } from "../db/client";
import { addNotifications, type NewNotification } from "../db/notifications";
import { config } from "../lib/config";
import type { AppContext } from "../lib/context";
import { relayPush } from "./push-relay";

export async function notifyUsers(c: AppContext, items: NewNotification[]): Promise<void> {
  if (items.length === 0) return;
  const db = database(c.env);
  const ids = await addNotifications(db, items);
  const cfg = config(c.env);
  if (cfg.pushProxies.length === 0) return;
  c.executionCtx.waitUntil(relayPush(db, cfg, items, ids).catch((err) => console.warn("push relay failed", String(err))));
}
