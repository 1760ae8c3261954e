#!/usr/bin/env node
/**
 * Samples EdgeTalk's CPU while a benchmark runs: where the time of a hot path goes, before
 * changing it. Start the benchmark with an inspector port, then this next to it:
 *
 *   BENCH_INSPECTOR_PORT=9230 BENCH_ONLY=rest-join-leave npm run bench &
 *   node bench/profile.mjs 9230 20 /tmp/edgetalk.cpuprofile
 *   node bench/profile.mjs --summary /tmp/edgetalk.cpuprofile      (a profile taken before)
 *
 * It connects to the `edgetalk` Worker's DevTools endpoint (the room objects run in the same
 * isolate), samples for the given seconds, writes the profile (open it in Chrome's DevTools) and
 * prints the functions with the most self time and the most total time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { devtools } from "./lib/inspector.mjs";

if (process.argv[2] === "--summary") {
  // node bench/profile.mjs --summary file.cpuprofile: the summary of a profile taken before.
  summarize(JSON.parse(readFileSync(process.argv[3] ?? "", "utf8")));
  process.exit(0);
}

const [port = "9230", seconds = "20", out = "edgetalk.cpuprofile"] = process.argv.slice(2);

const tools = await devtools(port, "edgetalk");
const call = tools.call;
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 100 });
await call("Profiler.start");
console.log(`sampling EdgeTalk (inspector port ${port}) for ${seconds} s`);
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const { profile } = await call("Profiler.stop");
tools.close();
writeFileSync(out, JSON.stringify(profile));
summarize(profile);

/** Self and total time per function (by name and place), from the samples. */
function summarize(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const f = n.callFrame;
    return `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
  };
  const self = new Map();
  const total = new Map();
  const deltas = p.timeDeltas ?? [];
  let all = 0;
  // A sample stands for the interval before it. The isolate is not sampled while it waits for
  // I/O (workerd reports no idle state), so a long gap is waiting, not the previous function's
  // work: intervals are capped at twice the sampling interval.
  p.samples.forEach((sample, i) => {
    const dt = Math.min(deltas[i] ?? 0, 200);
    all += dt;
    const leaf = byId.get(sample);
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + dt);
    const seen = new Set();
    for (let id = sample; id !== undefined; id = parent.get(id)) {
      const k = key(byId.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  });
  const idle = ["(idle)", "(program)", "(garbage collector)"].map((n) => [...self.entries()].filter(([k]) => k.startsWith(`${n} `)).reduce((a, [, v]) => a + v, 0));
  const busy = all - idle[0];
  const top = (m, n) =>
    [...m.entries()]
      .filter(([k]) => !k.startsWith("(idle)") && !k.startsWith("(root)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((v / busy) * 100).toFixed(1).padStart(5)} %  ${k}`)
      .join("\n");
  console.log(`\nbusy ${(busy / 1000).toFixed(0)} ms of ${(all / 1000).toFixed(0)} ms sampled (GC ${((idle[2] / busy) * 100).toFixed(1)} %, program ${((idle[1] / busy) * 100).toFixed(1)} %)`);
  console.log(`\nself time:\n${top(self, 30)}`);
  console.log(`\ntotal time:\n${top(total, 45)}`);
}
