/** The email outbox: messages are queued here and delivered by whatever drains it. */
import { asc, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { emailOutbox } from "./schema";

export interface OutgoingEmail {
  recipient: string;
  template: string;
  payload: Record<string, unknown>;
}

/** D1 binds at most 100 parameters per statement; a row binds three. */
const ROWS_PER_INSERT = 30;

export async function queueEmails(db: Db, emails: OutgoingEmail[]): Promise<void> {
  const rows = emails.map((e) => ({ recipient: e.recipient, template: e.template, payload: JSON.stringify(e.payload) }));
  const inserts = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) inserts.push(db.insert(emailOutbox).values(rows.slice(i, i + ROWS_PER_INSERT)));
  const [first, ...rest] = inserts;
  if (first) await db.batch([first, ...rest]);
}

/** Undelivered messages, oldest first. */
export async function pendingEmails(db: Db, limit = 100) {
  return db.select().from(emailOutbox).where(isNull(emailOutbox.sentAt)).orderBy(asc(emailOutbox.id)).limit(limit);
}
