/**
 * Scenarios 2, 3 and 5: WebSocket signaling fan-out. EdgeTalk has no WebSocket signaling yet, so
 * this module only reserves their rows in the table ("not yet available").
 *
 * When signaling lands, replace it with one module per scenario in this directory (see
 * bench/scenarios/index.mjs for the module shape). The baselines already exist: the bare DO's
 * GET /ws (a hibernatable socket; each message is sent to every socket in a loop of send()) and
 * the minimal Node `ws` server bench/baselines/ws-broadcast.mjs, which the runner starts on the
 * server core on demand through `await ctx.wsBaseline()` (resolves with its ws:// URL).
 */
export default {
  id: "websocket-fanout",
  number: "2, 3, 5",
  title: "WebSocket signaling fan-out",

  async prepare() {
    return { unavailable: "not yet available (EdgeTalk has no WebSocket signaling yet)" };
  },
};
