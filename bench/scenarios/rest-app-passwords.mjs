/**
 * Scenario 1b (REST): the two REST rows of scenario 1 with app passwords, which is what the stock
 * Talk clients send (Login Flow v2 / the nc://login flow hand them out), against the same requests
 * with login passwords in the same run. Target: app passwords cost no more than 1.2× (rate within
 * 1/1.2 = 0.83×, median latency within 1.2×).
 *
 *   EdgeTalk (app password)     the request with `Basic user:<app password>`
 *   EdgeTalk (login password)   the same request with `Basic user:<login password>`
 *
 * Both are served from EdgeTalk's credential cache after the first request of each client; the
 * rows show that the app-password path found by keyed hash costs the same as a cached password.
 */
import { OcsUser, TALK } from "../lib/ocs.mjs";
import { groupRoom } from "./shared.mjs";

const CLIENTS = 16;

/** One app password per seeded user, issued with the login password (GET core/getapppassword). */
function appPasswords(ctx, users) {
  return ctx.once("app-passwords:members", async () =>
    Promise.all(
      users.map(async (u) => {
        const data = await new OcsUser(ctx.http.edgetalk, u.userid, u.password).call("GET", "/ocs/v2.php/core/getapppassword");
        return { userid: u.userid, password: data.apppassword };
      }),
    ),
  );
}

function variant({ id, title, op: makeOp }) {
  return {
    id,
    number: "1b",
    title,
    async prepare(ctx) {
      const { token, users } = await groupRoom(ctx, "members", CLIENTS);
      const apps = await appPasswords(ctx, users);
      const op = makeOp(ctx, token);
      const target = (targetId, label, creds) => ({
        id: targetId,
        label,
        async client(i) {
          const u = creds[i % creds.length];
          const talk = new OcsUser(ctx.http.edgetalk, u.userid, u.password);
          await op(talk, true); // outside the window: cookie, first verification, route works
          return talk;
        },
        op: (talk) => op(talk, false),
      });
      return {
        targets: [target("edgetalk", "EdgeTalk (app password)", apps), target("login-password", "EdgeTalk (login password)", users)],
        phases: [
          { id: "throughput", label: `${CLIENTS} clients`, concurrency: CLIENTS },
          { id: "latency", label: "1 client", concurrency: 1 },
        ],
        comparisons: [
          { phase: "throughput", metric: "rps", baseline: "login-password", target: { atLeast: 0.83 } },
          { phase: "latency", metric: "p50", baseline: "login-password", target: { atMost: 1.2 } },
        ],
      };
    },
  };
}

export const joinLeaveWithAppPasswords = variant({
  id: "rest-join-leave-app",
  title: "REST: Talk join + leave, app passwords",
  op: (ctx, token) => {
    const path = `${TALK}/room/${token}/participants/active`;
    return async (talk, checked) => {
      if (checked) {
        await talk.call("POST", path);
        await talk.call("DELETE", path);
        return;
      }
      await ctx.http.edgetalk.request("POST", path, { headers: talk.headers() });
      await ctx.http.edgetalk.request("DELETE", path, { headers: talk.headers() });
    };
  },
});

export const participantsWithAppPasswords = variant({
  id: "rest-participants-app",
  title: "REST: participant list, app passwords",
  op: (ctx, token) => {
    const path = `${TALK}/room/${token}/participants`;
    return async (talk, checked) => {
      if (checked) await talk.call("GET", path);
      else await ctx.http.edgetalk.request("GET", path, { headers: talk.headers() });
    };
  },
});
