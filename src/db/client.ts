import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof database>;

const clients = new WeakMap<D1Database, ReturnType<typeof drizzle<typeof schema>>>();

export function database(env: Env) {
  let db = clients.get(env.DB);
  if (!db) {
    db = drizzle(env.DB, { schema });
    clients.set(env.DB, db);
  }
  return db;
}
