/**
 * `wrangler dev` as a child process for the tests that need a real server (the kill-and-restart
 * fault test, the browser tests): free ports, the local D1 migrations, start in its own process
 * group, wait until it answers, and kill it hard. Offline; no Cloudflare account.
 */
import { spawn } from "node:child_process";
import { generateKeyPair, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { promisify } from "node:util";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
export const HOST = "127.0.0.1";
/** Guards against a hang only; nothing asserts on timing. */
const START_LIMIT_MS = 120_000;
/** A whole kill-and-restart harness; guards against a hang only. */
const HARNESS_LIMIT_MS = 8 * 60_000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function portClosed(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

/** Runs a wrangler command to completion; its output is shown only when it fails. */
export function runWrangler(args, env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [WRANGLER, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    proc.stdout.on("data", keep);
    proc.stderr.on("data", keep);
    proc.on("error", reject);
    proc.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler ${args[0]} exited with ${code}:\n${output}`))));
  });
}

/** `wrangler dev` in its own process group, so one signal reaches wrangler and workerd alike. */
export function startDev(port, persist, envFile, env) {
  const args = ["dev", "--ip", HOST, "--port", String(port), "--persist-to", persist, "--env-file", envFile, "--inspector-port", "0"];
  const proc = spawn(process.execPath, [WRANGLER, ...args], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return { proc, exited, output: () => output };
}

export async function waitUntilUp(base, dev) {
  const deadline = Date.now() + START_LIMIT_MS;
  let gone = false;
  dev.exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline && !gone) {
    try {
      const res = await fetch(`${base}/status.php`, { signal: AbortSignal.timeout(10_000) });
      if (res.ok && (await res.text()).includes('"installed"')) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not come up:\n${dev.output()}`);
}

/** SIGKILL to the whole process group: no clean shutdown for wrangler or workerd. */
export async function killHard(dev, port) {
  process.kill(-dev.proc.pid, "SIGKILL");
  await dev.exited;
  const deadline = Date.now() + 30_000;
  while (!(await portClosed(port))) {
    if (Date.now() > deadline) throw new Error("the port is still open after SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A fresh place for an EdgeTalk under `wrangler dev`: a free port, a temporary persistence
 * directory, an env file (generated secret and signing key, plus `envLines`), and the D1
 * migrations applied. `start()` starts wrangler dev there (again after a kill: same state);
 * `cleanup()` removes the directory.
 */
export async function prepareEdgeTalk({ label, adminPassword, envLines = [] }) {
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), `edgetalk-${label}-`));
  const persist = path.join(tmp, "state");
  const envFile = path.join(tmp, "dev.env");
  // Asynchronous (libuv's thread pool): a CI run once hung for good inside the synchronous variant.
  const { privateKey } = await promisify(generateKeyPair)("ec", { namedCurve: "P-256" });
  writeFileSync(
    envFile,
    [
      `EDGETALK_ADMIN_PASSWORD=${adminPassword}`,
      `EDGETALK_SECRET=${randomBytes(32).toString("base64url")}`,
      `EDGETALK_OIDC_PRIVATE_KEY='${JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: `${label}-key` })}'`,
      ...envLines,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
  await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], env);
  return {
    base,
    port,
    persist,
    start: () => startDev(port, persist, envFile, env),
    cleanup: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

/** A fresh EdgeTalk up and answering (see prepareEdgeTalk); `stop()` kills it and removes its state. */
export async function startEdgeTalk(options) {
  const place = await prepareEdgeTalk(options);
  const dev = place.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (dev.proc.exitCode === null && dev.proc.signalCode === null) {
      try {
        process.kill(-dev.proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await dev.exited;
    }
    place.cleanup();
  };
  try {
    await waitUntilUp(place.base, dev);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base: place.base, port: place.port, dev, stop };
}

/**
 * A fresh EdgeTalk that a test may kill hard and start again on the same state: `body(server)`
 * gets `{base, persist, start(), kill()}`; the server's output is shown when the body fails, and the
 * process and its state are always removed afterwards.
 */
export async function withRestartableEdgeTalk(options, body) {
  // A hang must fail the run, not hold CI until its limit.
  const watchdog = setTimeout(() => {
    console.error(`${options.label}: no result after ${HARNESS_LIMIT_MS / 60_000} minutes`);
    process.exit(1);
  }, HARNESS_LIMIT_MS);
  watchdog.unref();
  const place = await prepareEdgeTalk(options);
  let dev = null;
  const stop = () => {
    if (dev && dev.proc.exitCode === null && dev.proc.signalCode === null) {
      try {
        process.kill(-dev.proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", stop);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1));
  const server = {
    base: place.base,
    persist: place.persist,
    async start() {
      dev = place.start();
      await waitUntilUp(place.base, dev);
    },
    kill: () => killHard(dev, place.port),
  };
  try {
    await body(server);
    stop();
    if (dev) await dev.exited;
  } catch (err) {
    if (dev) console.error(dev.output());
    throw err;
  } finally {
    stop();
    place.cleanup();
    clearTimeout(watchdog);
  }
}
