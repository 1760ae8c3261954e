/**
 * Scenario 1 (REST): the participant list of a conversation with 50 members.
 *
 *   EdgeTalk        GET /ocs/v2.php/apps/spreed/api/v4/room/{token}/participants
 *   trivial Worker  GET of a constant
 *   bare DO         GET: Worker → one DO → SELECT of 50 member rows → JSON
 *
 * The EdgeTalk endpoint does not exist yet. The scenario probes it first (with a room that exists)
 * and reports "not yet available" while it answers 404, so it starts measuring by itself the day
 * the route lands; the 50-member seed is only created then.
 */
import { OcsUser, TALK } from "../lib/ocs.mjs";
import { groupRoom } from "./shared.mjs";

const MEMBERS = 50;
const CLIENTS = 16;

export default {
  id: "rest-participants",
  number: "1",
  title: `REST: participant list of ${MEMBERS}`,

  async prepare(ctx) {
    // Probe with an existing room (the join/leave one), so a 404 can only mean "no such route".
    const probeRoom = await groupRoom(ctx, "members", 16);
    const prober = new OcsUser(ctx.http.edgetalk, probeRoom.users[0].userid, probeRoom.users[0].password);
    const probe = await ctx.http.edgetalk.request("GET", `${TALK}/room/${probeRoom.token}/participants`, {
      headers: prober.headers(),
      expect: [200, 404],
    });
    if (probe.status === 404) return { unavailable: `not yet available (GET …/room/{token}/participants answers 404)` };

    const { token, users } = await groupRoom(ctx, "fifty", MEMBERS);
    const path = `${TALK}/room/${token}/participants`;
    return {
      targets: [
        {
          id: "edgetalk",
          label: "EdgeTalk",
          async client(i) {
            const u = users[i % users.length];
            const talk = new OcsUser(ctx.http.edgetalk, u.userid, u.password);
            const list = await talk.call("GET", path);
            if (!Array.isArray(list) || list.length < MEMBERS) throw new Error(`expected ${MEMBERS} participants, got ${list?.length}`);
            return talk;
          },
          op: (talk) => ctx.http.edgetalk.request("GET", path, { headers: talk.headers() }),
        },
        { id: "trivial", label: "trivial Worker", client: () => null, op: () => ctx.http.trivial.request("GET", "/members") },
        {
          id: "bare-do",
          label: `bare DO (SELECT ${MEMBERS} rows)`,
          client: () => null,
          op: () => ctx.http["bare-do"].request("GET", `/members?n=${MEMBERS}`),
        },
      ],
      phases: [
        { id: "throughput", label: `${CLIENTS} clients`, concurrency: CLIENTS },
        { id: "latency", label: "1 client", concurrency: 1 },
      ],
      comparisons: [
        { phase: "throughput", metric: "rps", baseline: "trivial" },
        { phase: "throughput", metric: "rps", baseline: "bare-do", target: { atLeast: 0.85 } },
        { phase: "latency", metric: "p50", baseline: "trivial" },
        { phase: "latency", metric: "p50", baseline: "bare-do" },
        { phase: "latency", metric: "p99", baseline: "trivial" },
        { phase: "latency", metric: "p99", baseline: "bare-do" },
      ],
    };
  },
};
