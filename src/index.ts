/** Worker entry: the Hono app and the Durable Object classes. */
import { createApp } from "./app";

export { Room } from "./durable-objects/room";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
