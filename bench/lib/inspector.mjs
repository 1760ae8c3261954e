/**
 * The DevTools protocol of one Worker in the benchmark's workerd (Miniflare's `inspectorPort`):
 * `ws://127.0.0.1:<port>/core:user:<worker>`. Used to sample EdgeTalk's CPU (bench/profile.mjs)
 * and to collect garbage before a memory reading (scenario 5).
 */
import WebSocket from "ws";

/** Connects (retrying while workerd starts); resolves with { call(method, params), close() }. */
export async function devtools(port, worker, { retries = 120 } = {}) {
  // A Worker of the configuration by name, or any other isolate by its target id (`/json/list`).
  const target = worker.includes(":") ? worker : `core:user:${worker}`;
  const ws = await connect(`ws://127.0.0.1:${port}/${target}`, retries);
  let nextId = 1;
  const pending = new Map();
  ws.on("message", (raw) => {
    const msg = JSON.parse(String(raw));
    const waiter = msg.id ? pending.get(msg.id) : undefined;
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(msg.error.message));
    else waiter.resolve(msg.result);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

async function connect(address, retries) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise((resolve, reject) => {
        const socket = new WebSocket(address);
        socket.once("open", () => resolve(socket));
        socket.once("error", reject);
      });
    } catch (err) {
      if (attempt >= retries) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * A full garbage collection in each Worker's isolate (what is left is what is kept). workerd
 * hands DevTools messages to an isolate when it next runs code, so each call is followed by
 * requests to that Worker (`poke`) until it is answered. `workers`: { name: poke }.
 */
export async function collectGarbage(port, workers) {
  for (const [worker, poke] of Object.entries(workers)) {
    const tools = await devtools(port, worker, { retries: 5 });
    try {
      let answered = false;
      const done = tools.call("HeapProfiler.collectGarbage").then(() => {
        answered = true;
      });
      for (let attempt = 0; !answered; attempt++) {
        if (attempt === 50) throw new Error(`${worker}: no answer to HeapProfiler.collectGarbage`);
        await poke();
        await Promise.race([done, new Promise((r) => setTimeout(r, 100))]);
      }
    } finally {
      tools.close();
    }
  }
}
