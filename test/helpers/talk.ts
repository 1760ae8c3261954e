/** Talk test helpers shared by the test files: the API base and a token's room id. */
import { env } from "cloudflare:workers";

export const V4 = "/ocs/v2.php/apps/spreed/api/v4";

/** The room id (the Durable Object's name) behind a Talk token, from the D1 room index. */
export async function roomIdOf(token: string): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM rooms WHERE token = ?").bind(token).first<{ id: string }>();
  if (!row) throw new Error("room not indexed");
  return row.id;
}
