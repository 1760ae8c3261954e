/** Worker entry: the Hono app and the Durable Object classes. */
import { createApp } from "./app";

export { Room } from "./room/room";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
