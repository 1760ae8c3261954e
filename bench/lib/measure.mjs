/**
 * Closed-loop measurement: `concurrency` virtual clients each run the target's operation back to
 * back for a fixed window. Requests completed inside the window give the rate; every latency
 * recorded (including the few that finish while the loop drains) gives the percentiles.
 *
 * CPU accounting, as a check on what limits a run: the load generator's own CPU time
 * (process.cpuUsage) and, on Linux, workerd's (the nanosecond run time of its threads from
 * /proc/<pid>/task/<tid>/schedstat, else utime + stime in 10 ms ticks from /proc/<pid>/stat), each
 * as a share of one core over the window. A server near 100 % and a generator well below it means the
 * server is the bottleneck, as intended. And the machine's total busy time (/proc/stat) minus
 * those two: CPU used by anything else during the window ("other"), which on a shared machine is
 * the first suspect when a window looks off.
 */
import { readdirSync, readFileSync } from "node:fs";
import { recordInto, retriesSoFar } from "./http.mjs";
import { percentile } from "./stats.mjs";

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every mainstream Linux build

/**
 * CPU seconds used so far by a process, or null when /proc is unavailable. The threads' scheduler
 * run times (nanoseconds) where the kernel keeps them: /proc/<pid>/stat counts 10 ms ticks, too
 * coarse for a window in which the server uses a few percent of a core (the open-loop fan-out).
 */
export function processCpuSeconds(pid) {
  if (!pid) return null;
  return threadRunSeconds(pid) ?? tickSeconds(pid);
}

/** Per process: each thread's last run time read (ns) and the total of threads gone since. */
const threadTimes = new Map();

function threadRunSeconds(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const seen = threadTimes.get(pid) ?? { last: new Map(), gone: 0 };
  const now = new Map();
  for (const tid of tids) {
    try {
      now.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]));
    } catch {
      // the thread ended between the listing and the read; its time is counted below as gone
    }
  }
  if (now.size === 0 || [...now.values()].some((ns) => !Number.isFinite(ns))) return null;
  // A thread that ended keeps the run time last read (it loses at most what it ran since).
  for (const [tid, ns] of seen.last) if (!now.has(tid)) seen.gone += ns;
  seen.last = now;
  threadTimes.set(pid, seen);
  let total = seen.gone;
  for (const ns of now.values()) total += ns;
  return total / 1e9;
}

function tickSeconds(pid) {
  try {
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine so far (all CPUs), or null without /proc. */
export function machineBusySeconds() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]; // "cpu  user nice system idle iowait irq softirq steal …"
    const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * Runs one window. `clients` holds one state per virtual client; `op(state)` performs one
 * iteration (one or more requests through Http.request, which records their latencies).
 * Resolves with { requests, seconds, rps, p50, p99, errors, firstError, serverCpu, loadCpu, otherCpu }
 * (CPU figures in cores: 1 = one core fully busy; staleRetries: see Http.request).
 */
export async function runWindow({ clients, op, ms, serverPid }) {
  const latencies = [];
  let stopped = false;
  let errors = 0;
  let firstError = null;
  let inWindow = 0;
  let serverCpu = null;
  let loadCpu = null;
  let otherCpu = null;

  const retries0 = retriesSoFar();
  recordInto(latencies);
  const cpu0 = process.cpuUsage();
  const srv0 = processCpuSeconds(serverPid);
  const all0 = machineBusySeconds();
  const t0 = performance.now();
  const timer = new Promise((resolve) =>
    setTimeout(() => {
      stopped = true;
      inWindow = latencies.length;
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      loadCpu = (cpu.user + cpu.system) / 1e6 / seconds;
      const srv1 = processCpuSeconds(serverPid);
      if (srv0 !== null && srv1 !== null) serverCpu = (srv1 - srv0) / seconds;
      const all1 = machineBusySeconds();
      if (all0 !== null && all1 !== null && serverCpu !== null) otherCpu = Math.max(0, (all1 - all0) / seconds - serverCpu - loadCpu);
      resolve(seconds);
    }, ms),
  );

  const loops = clients.map(async (state) => {
    while (!stopped) {
      try {
        await op(state);
      } catch (err) {
        errors += 1;
        firstError ??= err;
        // Do not spin on a hard failure (e.g. connection refused).
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  });
  const seconds = await timer;
  await Promise.all(loops);
  recordInto(null);

  latencies.sort((a, b) => a - b);
  return {
    requests: inWindow,
    seconds,
    rps: inWindow / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    staleRetries: retriesSoFar() - retries0,
    firstError: firstError ? String(firstError.message ?? firstError) : null,
    serverCpu,
    loadCpu,
    otherCpu,
  };
}

/**
 * On a shared machine, waits (up to `maxMs`) until other processes use less than `threshold` of
 * a core, sampled over 500 ms, so a window does not start in the middle of someone else's burst.
 * Resolves with the last sample (cores), or null without /proc.
 */
export async function waitForQuiet({ serverPid, maxMs, threshold }) {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const all0 = machineBusySeconds();
    const srv0 = processCpuSeconds(serverPid);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    const all1 = machineBusySeconds();
    const srv1 = processCpuSeconds(serverPid);
    if (all0 === null || all1 === null || srv0 === null || srv1 === null) return null;
    const own = process.cpuUsage(own0);
    const seconds = (performance.now() - t0) / 1000;
    const other = Math.max(0, (all1 - all0 - (srv1 - srv0) - (own.user + own.system) / 1e6) / seconds);
    if (other < threshold || Date.now() >= deadline) return other;
  }
}
