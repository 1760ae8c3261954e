/**
 * Scenario 4: the conversation list of a user who is a member of 200 rooms.
 *
 *   EdgeTalk  GET /ocs/v2.php/apps/spreed/api/v4/room (auth, D1 room index, 200 conversation
 *             objects in the OCS envelope)
 *   bare D1   GET to a Worker that runs one SQL query for the same 200 index rows on the same
 *             D1 database and returns them as JSON
 *
 * Latency only, one client at a time (the target is about p50): a user opening the app.
 */
import { createUser, mapLimit, OcsUser, TALK } from "../lib/ocs.mjs";
import { PASSWORD } from "./shared.mjs";

const ROOMS = 200;
const USER = "bench-lister";

export default {
  id: "conversation-list",
  number: "4",
  title: `Conversation list (member of ${ROOMS} rooms)`,

  async prepare(ctx) {
    await createUser(ctx.admin, USER, PASSWORD);
    const user = new OcsUser(ctx.http.edgetalk, USER, PASSWORD);
    const names = Array.from({ length: ROOMS }, (_, i) => `Bench list ${String(i + 1).padStart(3, "0")}`);
    await mapLimit(names, 8, (name) => user.call("POST", `${TALK}/room`, { roomType: 2, roomName: name }));

    // Both sides must see the same 200 rooms, or the comparison means nothing.
    const listed = await user.call("GET", `${TALK}/room`);
    if (listed.length !== ROOMS) throw new Error(`EdgeTalk lists ${listed.length} conversations, expected ${ROOMS}`);
    const bare = await ctx.http["bare-d1"].json("GET", `/rooms?user=${USER}`);
    if (bare.data.length !== ROOMS) throw new Error(`the bare D1 query returns ${bare.data.length} rows, expected ${ROOMS}`);

    return {
      targets: [
        { id: "edgetalk", label: "EdgeTalk", client: () => user, op: (u) => ctx.http.edgetalk.request("GET", `${TALK}/room`, { headers: u.headers() }) },
        { id: "bare-d1", label: "bare D1 query", client: () => null, op: () => ctx.http["bare-d1"].request("GET", `/rooms?user=${USER}`) },
      ],
      phases: [{ id: "latency", label: "1 client", concurrency: 1 }],
      comparisons: [
        { phase: "latency", metric: "p50", baseline: "bare-d1", target: { atMost: 1.2 } },
        { phase: "latency", metric: "p99", baseline: "bare-d1" },
      ],
    };
  },
};
