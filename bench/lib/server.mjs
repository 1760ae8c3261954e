#!/usr/bin/env node
/**
 * The benchmark's server process: EdgeTalk and the baseline Workers in ONE workerd process,
 * started through the Miniflare API (no `wrangler dev`, whose extra proxy process would hide the
 * Worker's own cost). bench/run.mjs starts this under `taskset -c 0`, so workerd, which Miniflare
 * spawns as our child, inherits the server core.
 *
 * Every Worker gets its own direct socket on 127.0.0.1 (Miniflare's `unsafeDirectSockets`): requests
 * go straight to that Worker, not through Miniflare's entry Worker, and all targets pay the same
 * (minimal) front-end cost.
 *
 * Input: the JSON in BENCH_SERVER (see run.mjs): { bundle, persistDir, vars } (vars override wrangler.toml's
 * [vars] and supply the secrets).
 * Output: one JSON line on stdout, {"ready": true, "urls": {...}, "workerdPid": n}; errors go to stderr.
 * Runs until SIGTERM/SIGINT, or until its parent goes away, then disposes Miniflare (stops workerd).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const baselines = path.join(root, "bench", "baselines");
const options = JSON.parse(process.env.BENCH_SERVER ?? "{}");
const HOST = "127.0.0.1";

/** EdgeTalk with exactly the bindings of wrangler.toml (read by wrangler itself), plus secrets. */
function edgetalkWorker() {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  return {
    ...workerOptions,
    name: "edgetalk",
    modules: true,
    scriptPath: options.bundle,
    // Module names are relative to this root; the default (cwd) fails for a bundle outside the repo.
    modulesRoot: path.dirname(options.bundle),
    bindings: { ...workerOptions.bindings, ...options.vars },
    unsafeDirectSockets: [{ host: HOST, port: 0 }],
  };
}

/** A baseline Worker from bench/baselines, on EdgeTalk's compatibility settings; `extra` adds bindings. */
function baselineWorker(name, file, extra = {}) {
  return {
    name,
    modules: true,
    scriptPath: path.join(baselines, file),
    modulesRoot: baselines,
    compatibilityDate: edgetalk.compatibilityDate,
    compatibilityFlags: edgetalk.compatibilityFlags,
    unsafeDirectSockets: [{ host: HOST, port: 0 }],
    ...extra,
  };
}

/** Applies migrations/*.sql in order (drizzle-kit files: statements split by breakpoints). */
async function migrate(d1) {
  const dir = path.join(root, "migrations");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const statements = readFileSync(path.join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await d1.batch(statements.map((s) => d1.prepare(s)));
  }
}

/** The workerd child of this process (Miniflare spawns it directly). */
function workerdPid() {
  try {
    const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/).map(Number);
    for (const pid of children) {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("workerd")) return pid;
    }
  } catch {
    // not Linux, or /proc not readable: CPU accounting is skipped
  }
  return null;
}

const edgetalk = edgetalkWorker();
const mf = new Miniflare({
  host: HOST,
  port: 0,
  defaultPersistRoot: options.persistDir,
  // BENCH_INSPECTOR_PORT: the DevTools protocol of every Worker (bench/profile.mjs samples EdgeTalk's CPU).
  ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
  workers: [
    edgetalk,
    baselineWorker("trivial", "trivial.mjs"),
    baselineWorker("bare-do", "bare-do.mjs", { durableObjects: { BARE: { className: "BareRoom", useSQLite: true } } }),
    // Same D1 database id as EdgeTalk's `DB`: it reads the rows EdgeTalk wrote.
    baselineWorker("bare-d1", "bare-d1.mjs", { d1Databases: edgetalk.d1Databases }),
  ],
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(code);
  }
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(0));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop(0);
}, 500).unref();

try {
  await mf.ready;
  await migrate(await mf.getD1Database("DB", "edgetalk"));
  const urls = {};
  for (const name of ["edgetalk", "trivial", "bare-do", "bare-d1"]) urls[name] = (await mf.unsafeGetDirectURL(name)).href.replace(/\/$/, "");
  console.log(JSON.stringify({ ready: true, urls, workerdPid: workerdPid() }));
} catch (err) {
  console.error(err);
  await stop(1);
}
