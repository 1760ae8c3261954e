/**
 * Scenario 1 (REST): a Talk client joins a conversation and leaves it again.
 *
 *   EdgeTalk        POST then DELETE /ocs/v2.php/apps/spreed/api/v4/room/{token}/participants/active
 *                   (16 member users, each with its own session cookie, all in one room: one
 *                   room Durable Object, as in production)
 *   trivial Worker  POST then DELETE to a Worker that only returns a constant
 *   bare DO         POST then DELETE: Worker → one DO → SQLite INSERT / DELETE of a session row
 *
 * Every HTTP request is one sample: the rate counts both halves, the percentiles cover both.
 */
import { OcsUser, TALK } from "../lib/ocs.mjs";
import { groupRoom } from "./shared.mjs";

const CLIENTS = 16;

export default {
  id: "rest-join-leave",
  number: "1",
  title: "REST: Talk join + leave",

  async prepare(ctx) {
    const { token, users } = await groupRoom(ctx, "members", CLIENTS);
    const path = `${TALK}/room/${token}/participants/active`;
    let seq = 0;

    return {
      targets: [
        {
          id: "edgetalk",
          label: "EdgeTalk",
          async client(i) {
            const u = users[i % users.length];
            const talk = new OcsUser(ctx.http.edgetalk, u.userid, u.password);
            // One round trip outside the window: issues the session cookie, verifies the password
            // once (then it is served from EdgeTalk's credential cache), checks the route works.
            await talk.call("POST", path);
            await talk.call("DELETE", path);
            return talk;
          },
          async op(talk) {
            await ctx.http.edgetalk.request("POST", path, { headers: talk.headers() });
            await ctx.http.edgetalk.request("DELETE", path, { headers: talk.headers() });
          },
        },
        {
          id: "trivial",
          label: "trivial Worker",
          client: () => null,
          async op() {
            await ctx.http.trivial.request("POST", "/session");
            await ctx.http.trivial.request("DELETE", "/session");
          },
        },
        {
          id: "bare-do",
          label: "bare DO (SQLite insert + delete)",
          client: (i) => ({ prefix: `c${i}-` }),
          async op(state) {
            const id = `${state.prefix}${seq++}`;
            await ctx.http["bare-do"].request("POST", `/session?id=${id}`);
            await ctx.http["bare-do"].request("DELETE", `/session?id=${id}`);
          },
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
