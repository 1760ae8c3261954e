/**
 * Baseline: the cheapest possible Worker. One route, no router, no Durable Object, no storage.
 * It answers every method on every path with a small fixed JSON body, so a request costs only
 * what workerd itself spends on HTTP parsing, isolate entry and the response.
 */
const BODY = JSON.stringify({ ok: true });

export default {
  fetch() {
    return new Response(BODY, { headers: { "Content-Type": "application/json" } });
  },
};
