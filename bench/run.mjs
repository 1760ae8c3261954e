#!/usr/bin/env node
/**
 * `npm run bench`: EdgeTalk against baselines measured in the same run, as ratios.
 *
 *   1. bundles EdgeTalk exactly as `wrangler deploy` would (`wrangler deploy --dry-run --outdir`);
 *   2. starts ONE workerd through the Miniflare API (bench/lib/server.mjs) with EdgeTalk (bindings
 *      from wrangler.toml, fresh secrets, D1 migrations applied, state in a temporary directory)
 *      and the baseline Workers of bench/baselines, pinned to the server core with `taskset`;
 *   3. pins this process, the load generator, to the other core;
 *   4. runs every scenario of bench/scenarios: seed, then per phase a warm-up and `repeats`
 *      interleaved fixed windows per target, keeping the median; rounds during which another
 *      process used half a core or more are repeated (up to `repeats` extra rounds);
 *   5. stops everything, prints the table and writes bench/results.json.
 *
 * Environment:
 *   BENCH_QUICK=1      short windows (0.5 s warm-up, 1 s windows, smaller WebSocket runs) for iterating on the harness
 *   BENCH_WINDOW_MS    window length (default 5000), BENCH_WARMUP_MS (default 2000),
 *   BENCH_REPEATS      rounds (one window per target) per phase (default 3; the median is reported)
 *   BENCH_QUIET_WAIT_MS  before each window, wait up to this long (default 10000; 0 = never) until
 *                      other processes use less than a quarter of a core (shared machines); at most
 *                      BENCH_QUIET_BUDGET_MS (default 90000) of such waiting per run
 *   BENCH_ONLY=a,b     run only these scenario ids (see bench/scenarios/index.mjs)
 *   BENCH_VERBOSE=1    pass the server's output (workerd logs) through
 *   BENCH_STATE_DIR    where workerd keeps D1 / Durable Object / R2 state for the run (default: a
 *                      fresh directory in /dev/shm when it exists, else in the OS temp dir)
 * Flags:
 *   --update-readme    replace the table between the bench markers in README.md
 *
 * Exit status: 0 when every scenario was measured or is "not yet available", 1 when one failed.
 * Missed targets do not fail the run: they are results.
 */
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Http } from "./lib/http.mjs";
import { runWindow, waitForQuiet } from "./lib/measure.mjs";
import { OcsUser } from "./lib/ocs.mjs";
import { comparisonRows, markdownTable, noteRow } from "./lib/report.mjs";
import { median } from "./lib/stats.mjs";
import { scenarios } from "./scenarios/index.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const README_START = "<!-- bench-results:start -->";
const README_END = "<!-- bench-results:end -->";

const env = process.env;
const quick = env.BENCH_QUICK === "1";
const settings = {
  quick,
  stateDir: null, // set in main()
  warmupMs: Number(env.BENCH_WARMUP_MS ?? (quick ? 500 : 2000)),
  windowMs: Number(env.BENCH_WINDOW_MS ?? (quick ? 1000 : 5000)),
  repeats: Number(env.BENCH_REPEATS ?? 3),
  quietWaitMs: Number(env.BENCH_QUIET_WAIT_MS ?? 10_000),
  quietBudgetMs: Number(env.BENCH_QUIET_BUDGET_MS ?? 90_000),
  quietThreshold: 0.25,
  contendedAt: 0.5,
};
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(",").map((s) => s.trim())) : null;
const verbose = env.BENCH_VERBOSE === "1";
const t0 = Date.now();

const log = (msg) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Processes we start, stopped on every way out

const children = new Set();
const tempDirs = [];

function stopChildren() {
  for (const child of children) {
    try {
      // Each child leads its own process group: this reaches workerd too.
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

function cleanup() {
  stopChildren();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`\n[bench] ${signal}: stopping`);
    cleanup();
    process.exit(130);
  });
}
process.on("exit", stopChildren);

/** Waits for a child to exit; SIGKILLs its group after `ms`. */
function stopChild(child, ms = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, ms);
    child.once("exit", () => {
      clearTimeout(timer);
      children.delete(child);
      resolve();
    });
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      resolve();
    }
  });
}

/**
 * Starts a Node script (pinned to `cpu` when pinning works) in its own process group and resolves
 * with the first JSON line it prints on stdout.
 */
function startNode(script, { cpu, extraEnv = {}, timeoutMs = 60_000 }) {
  const command = cpu !== null ? "taskset" : process.execPath;
  const args = cpu !== null ? ["-c", String(cpu), process.execPath, script] : [script];
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  children.add(child);
  const stderrTail = [];
  child.stderr.on("data", (chunk) => {
    if (verbose) process.stderr.write(chunk);
    stderrTail.push(chunk.toString());
    if (stderrTail.length > 50) stderrTail.shift();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    const lines = createInterface({ input: child.stdout });
    let ready = false;
    lines.on("line", (line) => {
      if (!ready && line.startsWith("{")) {
        ready = true;
        clearTimeout(timer);
        resolve({ child, info: JSON.parse(line) });
      } else if (verbose) {
        console.error(line);
      }
    });
    child.once("exit", (code, signal) => {
      children.delete(child);
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`${path.basename(script)} exited (${signal ?? code}) before it was ready:\n${stderrTail.join("").slice(-3000)}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// CPU pinning

/** The CPUs this process may run on (Linux `taskset -c -p`), or null when unknown. */
function allowedCpus() {
  const out = spawnSync("taskset", ["-c", "-p", String(process.pid)], { encoding: "utf8" });
  if (out.error || out.status !== 0) return null;
  const list = out.stdout.split(":").pop().trim();
  const cpus = [];
  for (const part of list.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Server on the first allowed CPU, load generator (this process, all its threads) on the second.
 * Degrades to no pinning, and says so, without taskset or with fewer than two CPUs.
 */
function pinCpus() {
  if (process.platform !== "linux") return { pinned: false, reason: "not Linux: taskset unavailable", server: null, load: null };
  const cpus = allowedCpus();
  if (!cpus) return { pinned: false, reason: "taskset not found (util-linux)", server: null, load: null };
  if (cpus.length < 2) return { pinned: false, reason: `only ${cpus.length} CPU available`, server: null, load: null };
  const [server, load] = cpus;
  const res = spawnSync("taskset", ["-a", "-c", "-p", String(load), String(process.pid)], { encoding: "utf8" });
  if (res.status !== 0) return { pinned: false, reason: `taskset -p failed: ${res.stderr.trim()}`, server: null, load: null };
  return { pinned: true, reason: null, server, load, available: cpus };
}

// ---------------------------------------------------------------------------------------------
// Steps

function buildEdgeTalk(outdir) {
  const res = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    env: { ...env, WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${res.stdout}\n${res.stderr}`);
  return path.join(outdir, "index.js");
}

/** Fresh secrets for a throwaway instance, the way scripts/start.mjs generates them. */
function benchVars() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    adminPassword: randomBytes(18).toString("base64url"),
    vars: {
      EDGETALK_SECRET: randomBytes(32).toString("base64url"),
      EDGETALK_OIDC_PRIVATE_KEY: JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: "bench" }),
      EDGETALK_TURN_SECRET: "",
      EDGETALK_SIP_BRIDGE_SECRET: "",
      EDGETALK_SERVICE_CLIENTS: "",
      // Steady state: a verified password stays cached for the whole run, so the once-a-minute
      // PBKDF2 re-verification per user (≈ tens of ms of CPU) cannot land inside a window.
      EDGETALK_CREDENTIAL_CACHE_TTL: "3600",
    },
  };
}

/** `once(key, fn)`: fn's result for key, computed the first time only. */
function memoiser() {
  const memo = new Map();
  return (key, fn) => {
    if (!memo.has(key)) memo.set(key, fn());
    return memo.get(key);
  };
}

/** A TCP port nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForStatus(http) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await http.request("GET", "/status.php");
      if (res.text.includes('"installed"')) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits for the machine to calm down before a window (see BENCH_QUIET_WAIT_MS); logs when it had to. */
let quietSpentMs = 0;
async function quietBeforeWindow(serverPid) {
  const maxMs = Math.min(settings.quietWaitMs, settings.quietBudgetMs - quietSpentMs);
  if (maxMs <= 0) return;
  const start = Date.now();
  const other = await waitForQuiet({ serverPid, maxMs, threshold: settings.quietThreshold });
  const waited = Date.now() - start;
  quietSpentMs += Math.max(0, waited - 500); // the 500 ms sample itself is not waiting
  if (other !== null && (waited > 1000 || other >= settings.quietThreshold)) {
    log(`  waited ${(waited / 1000).toFixed(1)} s for other processes to calm down (now ${Math.round(other * 100)} % of a core)`);
  }
}

/**
 * Warm-up, then `repeats` rounds over all targets (order rotated each round). Per target: the
 * median of its windows. Per baseline: the median of the per-round ratios EdgeTalk ÷ baseline,
 * each from two windows measured seconds apart, which cancels most of a shared machine's drift.
 */
async function measurePhase(prepared, phase, states, serverPid) {
  const targets = prepared.targets;
  for (const t of targets) {
    const r = await runWindow({ clients: states[t.id], op: t.op, ms: settings.warmupMs, serverPid });
    if (r.errors > 0) throw new Error(`${t.label}: ${r.errors} errors during warm-up, first: ${r.firstError}`);
  }
  // A round is clean when no window in it had other processes using half a core or more.
  // Contended rounds are repeated (at most `repeats` extra rounds); only clean rounds count when
  // at least two exist, otherwise every round does and the result is flagged as contended.
  const rounds = [];
  const clean = (round) => Object.values(round).every((r) => !(r.otherCpu >= settings.contendedAt));
  const pct = (x) => `${Math.round(x * 100)} %`;
  while (rounds.filter(clean).length < settings.repeats && rounds.length < settings.repeats * 2) {
    const round = {};
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + rounds.length) % targets.length];
      await quietBeforeWindow(serverPid);
      const r = await runWindow({ clients: states[t.id], op: t.op, ms: settings.windowMs, serverPid });
      if (r.errors > 0) throw new Error(`${t.label}: ${r.errors} errors, first: ${r.firstError}`);
      round[t.id] = r;
      const cpu = r.serverCpu === null ? "" : `; CPU: server ${pct(r.serverCpu)}, load generator ${pct(r.loadCpu)}, other processes ${pct(r.otherCpu)}`;
      log(`  ${phase.id} round ${rounds.length + 1} ${t.label}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${cpu}`);
    }
    rounds.push(round);
    if (!clean(round)) log(`  ${phase.id} round ${rounds.length} was contended (another process used ≥ ${pct(settings.contendedAt)} of a core): not counted`);
  }
  const cleanRounds = rounds.filter(clean);
  const used = cleanRounds.length >= 2 ? cleanRounds : rounds;
  const contended = used !== cleanRounds;

  const medians = {};
  for (const t of targets) {
    const w = used.map((round) => round[t.id]);
    medians[t.id] = {
      rps: median(w.map((r) => r.rps)),
      p50: median(w.map((r) => r.p50)),
      p99: median(w.map((r) => r.p99)),
      serverCpu: median(w.map((r) => r.serverCpu ?? Number.NaN)),
      loadCpu: median(w.map((r) => r.loadCpu)),
      otherCpu: median(w.map((r) => r.otherCpu ?? Number.NaN)),
    };
  }
  const ratios = {};
  for (const t of targets) {
    if (t.id === "edgetalk") continue;
    ratios[t.id] = {};
    for (const metric of ["rps", "p50", "p99"]) {
      ratios[t.id][metric] = median(used.map((round) => round.edgetalk[metric] / round[t.id][metric]));
    }
  }
  return { medians, ratios, contended, rounds: rounds.map((round) => ({ clean: clean(round), windows: round })) };
}

async function runScenario(scenario, ctx, serverPid) {
  log(`scenario ${scenario.number} ${scenario.title}: preparing`);
  const prepared = await scenario.prepare(ctx);
  if (prepared.unavailable) {
    log(`  ${prepared.unavailable}`);
    return { status: "unavailable", reason: prepared.unavailable, rows: [noteRow(scenario, prepared.unavailable)] };
  }
  if (prepared.run) {
    // A scenario that measures by itself (WebSockets): it gets the runner's tools and settings.
    const tools = { serverPid, quiet: () => quietBeforeWindow(serverPid), contendedAt: settings.contendedAt };
    const outcome = await prepared.run(tools);
    return { status: "measured", contended: outcome.contended, details: outcome.details, rows: outcome.rows };
  }
  const medians = {};
  const ratios = {};
  const rounds = {};
  let contended = false;
  for (const phase of prepared.phases) {
    const states = {};
    for (const t of prepared.targets) {
      states[t.id] = await Promise.all(Array.from({ length: phase.concurrency }, (_, i) => t.client(i)));
    }
    const result = await measurePhase(prepared, phase, states, serverPid);
    medians[phase.id] = result.medians;
    ratios[phase.id] = result.ratios;
    rounds[phase.id] = result.rounds;
    contended ||= result.contended;
  }
  const rows = comparisonRows(scenario, prepared, medians, ratios, contended);
  return { status: "measured", contended, medians, ratios, rounds, phases: prepared.phases, rows };
}

function machineInfo(pinning) {
  const git = (args) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
  const pkg = (name) => JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
  return {
    commit: git(["rev-parse", "--short", "HEAD"]) + (git(["status", "--porcelain", "--", "src", "bench", "wrangler.toml", ":!bench/results.json"]) ? "+dirty" : ""),
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.cpus().length, // not availableParallelism(): that follows our own (pinned) affinity
    node: process.version,
    miniflare: pkg("miniflare"),
    workerd: pkg("workerd"),
    pinning: pinning.pinned ? { server: pinning.server, loadGenerator: pinning.load } : { none: pinning.reason },
  };
}

function updateReadme(table, results) {
  const file = path.join(root, "README.md");
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END} markers`);
  const m = results.machine;
  const pin = m.pinning.none ? `no CPU pinning (${m.pinning.none})` : `server on CPU ${m.pinning.server}, load generator on CPU ${m.pinning.loadGenerator}`;
  const other = Number.isFinite(results.otherCpuMedian) ? `; other processes used ${Math.round(results.otherCpuMedian * 100)} % of a core meanwhile (median)` : "";
  const stamp = `Measured ${results.generatedAt.slice(0, 10)} at commit ${m.commit}: ${m.cpus} × ${m.cpu}, Node ${m.node}, workerd ${m.workerd}, ${pin}; ${settings.windowMs / 1000} s windows, median of ${settings.repeats}${other}.`;
  writeFileSync(file, `${text.slice(0, start + README_START.length)}\n${stamp}\n\n${table}\n${text.slice(end)}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const selected = scenarios.filter((s) => !only || only.has(s.id));
  if (selected.length === 0) throw new Error(`BENCH_ONLY matches no scenario; ids: ${scenarios.map((s) => s.id).join(", ")}`);

  const work = mkdtempSync(path.join(os.tmpdir(), "edgetalk-bench-"));
  tempDirs.push(work);
  // State on tmpfs: local SQLite files on a (shared, virtual) disk make every Durable Object and
  // D1 commit wait for a flush, a cost production storage does not have in that form and the
  // noisiest part of a shared machine. Both EdgeTalk and the baselines use the same storage.
  const stateRoot = env.BENCH_STATE_DIR ?? (existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir());
  settings.stateDir = stateRoot;
  log("bundling EdgeTalk (wrangler deploy --dry-run)");
  const bundle = buildEdgeTalk(path.join(work, "build"));

  const pinning = pinCpus();
  if (pinning.pinned) log(`pinned: server on CPU ${pinning.server}, load generator on CPU ${pinning.load}`);
  else console.warn(`[bench] WARNING: running without CPU pinning (${pinning.reason}); server and load generator share the CPUs`);

  /**
   * One workerd process (Miniflare) with EdgeTalk and the baselines on their own fresh state, on
   * the server core. Resolves with { http, workerdPid, adminPassword, stop }.
   */
  async function startServer({ inspectorPort } = {}) {
    const state = mkdtempSync(path.join(stateRoot, "edgetalk-bench-state-"));
    tempDirs.push(state);
    const { vars, adminPassword } = benchVars();
    const server = await startNode(path.join(root, "bench", "lib", "server.mjs"), {
      cpu: pinning.server,
      extraEnv: { BENCH_SERVER: JSON.stringify({ bundle, persistDir: state, vars: { ...vars, EDGETALK_ADMIN_PASSWORD: adminPassword }, inspectorPort }) },
    });
    const http = Object.fromEntries(Object.entries(server.info.urls).map(([name, url]) => [name, new Http(url)]));
    await waitForStatus(http.edgetalk); // the first request also seeds the administrator
    return {
      http,
      workerdPid: server.info.workerdPid,
      adminPassword,
      async stop() {
        await Promise.all(Object.values(http).map((h) => h.close()));
        await stopChild(server.child);
      },
    };
  }

  log("starting workerd (Miniflare): EdgeTalk + baselines");
  const main = await startServer({ inspectorPort: env.BENCH_INSPECTOR_PORT ? Number(env.BENCH_INSPECTOR_PORT) : undefined });
  const { http, workerdPid, adminPassword } = main;

  const nodeBaselines = new Map();
  const ctx = {
    settings,
    http,
    admin: new OcsUser(http.edgetalk, "admin", adminPassword),
    log,
    /**
     * A workerd process of its own, for a measurement the run's shared process would distort
     * (memory): resolves with a context like this one for it ({ settings, http, admin, log, once,
     * workerdPid, inspectorPort (with `inspector`), stop }); the caller stops it.
     */
    async freshServer({ inspector = false } = {}) {
      const inspectorPort = inspector ? await freePort() : undefined;
      const fresh = await startServer({ inspectorPort });
      return {
        settings,
        http: fresh.http,
        admin: new OcsUser(fresh.http.edgetalk, "admin", fresh.adminPassword),
        log,
        once: memoiser(),
        workerdPid: fresh.workerdPid,
        inspectorPort,
        stop: () => fresh.stop(),
      };
    },
    /** Memoises a seed step shared by scenarios. */
    once: memoiser(),
    /**
     * Starts a Node baseline server of bench/baselines (`name`.mjs, printing {"port"} when it
     * listens) on the server core, once per run; resolves with { url: ws://…, pid }.
     */
    async nodeBaseline(name) {
      if (!nodeBaselines.has(name)) nodeBaselines.set(name, startNode(path.join(root, "bench", "baselines", `${name}.mjs`), { cpu: pinning.server }));
      const { child, info } = await nodeBaselines.get(name);
      return { url: `ws://127.0.0.1:${info.port}`, pid: child.pid };
    },
    /** The Node `ws` broadcast baseline (bench/baselines/ws-broadcast.mjs); resolves with its ws:// URL. */
    async wsBaseline() {
      return (await this.nodeBaseline("ws-broadcast")).url;
    },
  };

  const results = { generatedAt: new Date().toISOString(), machine: machineInfo(pinning), settings, scenarios: [] };
  let failed = false;
  for (const scenario of selected) {
    try {
      const outcome = await runScenario(scenario, ctx, workerdPid);
      results.scenarios.push({ id: scenario.id, number: scenario.number, title: scenario.title, ...outcome });
    } catch (err) {
      failed = true;
      console.error(`[bench] scenario ${scenario.id} failed:`, err);
      const note = `failed: ${String(err.message ?? err).split("\n")[0]}`;
      results.scenarios.push({ id: scenario.id, number: scenario.number, title: scenario.title, status: "error", reason: note, rows: [noteRow(scenario, note)] });
    }
  }

  log("stopping");
  for (const started of nodeBaselines.values()) await stopChild((await started).child);
  await main.stop();
  cleanup();

  const allWindows = results.scenarios.flatMap((s) =>
    Object.values(s.rounds ?? {}).flatMap((phaseRounds) => phaseRounds.flatMap((round) => Object.values(round.windows))),
  );
  results.otherCpuMedian = median(allWindows.map((w) => w.otherCpu ?? Number.NaN));
  const table = markdownTable(results.scenarios.flatMap((s) => s.rows));
  writeFileSync(path.join(root, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${table}\n`);
  console.log("Ratios are EdgeTalk ÷ baseline in the same run: for req/s below 1 is slower, for latencies above 1 is slower.");
  if (Number.isFinite(results.otherCpuMedian)) console.log(`Other processes on this machine used ${Math.round(results.otherCpuMedian * 100)} % of a core (median over the windows).`);
  console.log(`Written to bench/results.json (${((Date.now() - t0) / 1000).toFixed(0)} s).`);
  if (process.argv.includes("--update-readme")) {
    updateReadme(table, results);
    console.log("README.md Performance table updated.");
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error("[bench] ERROR:", err);
  cleanup();
  process.exit(1);
});
