/**
 * One measurement window of a delivery scenario (fan-out, chat): messages are sent for
 * `warmupMs + windowMs` (closed loop: `load.inFlight` messages in flight, a message done when all
 * `n` recipients have it; open loop: `load.rate` messages/s), deliveries are timed only inside the
 * window, then sending stops and the window waits until every message reached every recipient.
 *
 *   subscribe(deliver)  installs the recipients' handlers: `deliver(k)` when a recipient got
 *                       message k (the k-th sent in this window); returns a function removing them
 *   send(k)             sends message k
 *
 * Resolves with { rate (deliveries/s), p50, p99 (ms send → receive), cpuUs (server CPU µs per
 * delivery), serverCpu, otherCpu, loadCpu, messages, windows: 1 }.
 */
import { cpuWindow } from "./custom.mjs";
import { percentile } from "./stats.mjs";

export async function deliveryWindow(options) {
  return combineWindows([await rawDeliveryWindow(options)]);
}

/**
 * The same window, unsummarised: { seconds, serverSeconds, deliveries, latencies (sorted),
 * otherCpu, loadCpu, messages }; `combineWindows` merges several of one target.
 */
export function rawDeliveryWindow({ n, subscribe, send, load, warmupMs, windowMs, pids, drainMs = 20_000 }) {
  const sentAt = [];
  const remaining = [];
  const latencies = [];
  let done = 0;
  let deliveries = 0;
  let sending = true;
  let measuring = false;
  let drained = null;

  const sendNext = () => {
    const k = sentAt.length;
    sentAt.push(performance.now());
    remaining.push(n);
    send(k);
  };
  const unsubscribe = subscribe((k) => {
    if (sentAt[k] === undefined || remaining[k] <= 0) return;
    if (measuring) {
      deliveries += 1;
      latencies.push(performance.now() - sentAt[k]);
    }
    remaining[k] -= 1;
    if (remaining[k] > 0) return;
    done += 1;
    if (sending && load.inFlight) sendNext();
    else if (!sending && done === sentAt.length) drained?.();
  });

  return new Promise((resolve, reject) => {
    let ticker = null;
    if (load.inFlight) for (let i = 0; i < load.inFlight; i++) sendNext();
    else {
      const start = performance.now();
      ticker = setInterval(() => {
        const due = Math.floor(((performance.now() - start) / 1000) * load.rate) + 1;
        while (sending && sentAt.length < due) sendNext();
      }, 5);
    }
    let cpu = null;
    setTimeout(() => {
      latencies.length = 0;
      deliveries = 0;
      measuring = true;
      cpu = cpuWindow(pids);
    }, warmupMs);
    setTimeout(() => {
      measuring = false;
      const used = cpu.stop();
      sending = false;
      if (ticker) clearInterval(ticker);
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`lost deliveries: ${sentAt.length - done} of ${sentAt.length} messages did not reach all ${n} recipients`));
      }, drainMs);
      drained = () => {
        clearTimeout(timer);
        unsubscribe();
        latencies.sort((a, b) => a - b);
        resolve({
          seconds: used.seconds,
          serverSeconds: used.serverSeconds,
          deliveries,
          latencies,
          otherCpu: used.otherCpu,
          loadCpu: used.loadCpu,
          messages: sentAt.length,
        });
      };
      if (done === sentAt.length) drained();
    }, warmupMs + windowMs);
  });
}

/**
 * Several windows of one target as one: rates and CPU from the summed seconds, deliveries and CPU
 * time, percentiles over every delivery of all of them, the CPU shares weighted by window length.
 */
export function combineWindows(windows) {
  const sum = (key) => windows.reduce((total, w) => total + w[key], 0);
  const seconds = sum("seconds");
  const deliveries = sum("deliveries");
  const latencies = windows.length === 1 ? windows[0].latencies : windows.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const share = (key) => (windows.some((w) => w[key] === null) ? null : windows.reduce((total, w) => total + w[key] * w.seconds, 0) / seconds);
  return {
    rate: deliveries / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: (sum("serverSeconds") * 1e6) / deliveries,
    serverCpu: sum("serverSeconds") / seconds,
    otherCpu: share("otherCpu"),
    loadCpu: share("loadCpu"),
    messages: sum("messages"),
    windows: windows.length,
  };
}
