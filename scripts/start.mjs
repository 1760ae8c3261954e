#!/usr/bin/env node
/**
 * `npm start`: from a fresh clone to a running EdgeTalk on http://127.0.0.1:$PORT in one command.
 *
 *   1. `npm ci` when the dependencies are not installed yet;
 *   2. `.dev.vars` from `.dev.vars.example`, with a generated EDGETALK_SECRET and ES256 signing key
 *      (an existing .dev.vars is kept; only those two are filled in when missing or empty);
 *   3. the D1 migrations, applied to the local database under .wrangler/state;
 *   4. `wrangler dev` on 127.0.0.1:$PORT (default 8787), state persisted under .wrangler/state;
 *   5. waits for GET /status.php (the first request also seeds the admin account) and prints how to log in.
 *
 * SIGINT/SIGTERM/SIGHUP are forwarded to wrangler. Extra arguments go to `wrangler dev`
 * (`npm start -- --log-level debug`). Environment: PORT, START_TIMEOUT (seconds to wait for the
 * server, default 90). Plain Node with no dependencies: it has to run before `npm ci`.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

const HOST = "127.0.0.1";
const PORT = Number.parseInt(process.env.PORT || "8787", 10);
const TIMEOUT_S = Number.parseInt(process.env.START_TIMEOUT || "90", 10);
const BASE = `http://${HOST}:${PORT}`;
const STATE_DIR = ".wrangler/state";
const WRANGLER = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const POSIX = process.platform !== "win32";
const t0 = Date.now();

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const yellow = (s) => (process.stdout.isTTY ? `\x1b[33m${s}\x1b[0m` : s);
const log = (msg) => console.log(`[edgetalk] ${msg}`);
const warn = (msg) => console.warn(yellow(`[edgetalk] WARNING: ${msg}`));
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// Child processes and signal forwarding

/** The running child, if any; `group` when it leads its own process group (wrangler dev). */
let current = null;
let stopSignal = null;
let stopAt = 0;
let exitCode = null;

function signalChild(signal) {
  if (!current || current.proc.exitCode !== null || current.proc.signalCode !== null) return;
  try {
    if (current.group && POSIX) process.kill(-current.proc.pid, signal);
    else current.proc.kill(signal);
  } catch {
    // already gone
  }
}

function onSignal(signal) {
  if (!current) process.exit(signal === "SIGINT" ? 130 : 143);
  if (!stopSignal) {
    stopSignal = signal;
    stopAt = Date.now();
    log(`${signal}: stopping...`);
    signalChild(signal);
    // Give wrangler time to shut workerd down cleanly, then make sure nothing is left behind.
    setTimeout(() => signalChild("SIGKILL"), 10_000).unref();
  } else if (Date.now() - stopAt > 1000) {
    // A second Ctrl+C (not the copy npm forwards along with the terminal's) forces it.
    signalChild("SIGKILL");
  }
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => onSignal(signal));
process.on("exit", () => signalChild("SIGKILL"));
// `kill <pid of npm start>` stops npm and its `sh -c`, but the shell does not pass the signal on:
// when our parent goes away, stop as if we had received SIGTERM ourselves.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) onSignal("SIGTERM");
}, 500).unref();

/** Runs a command to completion; resolves with its exit code (exits if we were asked to stop). */
function run(command, args, { env = process.env, group = false, stdin = "inherit" } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      cwd: root,
      env,
      stdio: [stdin, "inherit", "inherit"],
      detached: group && POSIX,
      shell: !POSIX && command === "npm",
    });
    current = { proc, group };
    proc.on("error", reject);
    proc.on("exit", (code, signal) => {
      current = null;
      if (stopSignal) process.exit(exitCode ?? code ?? (stopSignal === "SIGINT" ? 130 : 143));
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

function fail(message) {
  console.error(`[edgetalk] ERROR: ${message}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// .dev.vars

/** A small dotenv reader: KEY=value, optional quotes, `export` and trailing ` # comments`. */
function parseDotenv(text) {
  const vars = {};
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) continue;
    let value = m[2].trim();
    const quote = value[0];
    const end = quote === '"' || quote === "'" || quote === "`" ? value.indexOf(quote, 1) : -1;
    value = end > 0 ? value.slice(1, end) : value.replace(/\s+#.*$/, "");
    vars[m[1]] = value;
  }
  return vars;
}

const GENERATED = {
  EDGETALK_SECRET: () => randomBytes(32).toString("base64url"),
  EDGETALK_OIDC_PRIVATE_KEY: () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const kid = `edgetalk-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
    return `'${JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid })}'`;
  },
};

function ensureDevVars() {
  const file = ".dev.vars";
  const created = !existsSync(file);
  let text = created ? (existsSync(".dev.vars.example") ? readFileSync(".dev.vars.example", "utf8") : "") : readFileSync(file, "utf8");
  const existing = parseDotenv(text);
  const filled = [];
  for (const [key, make] of Object.entries(GENERATED)) {
    if (existing[key]) continue;
    const line = `${key}=${make()}`;
    const re = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${key}[ \\t]*=.*$`, "m");
    text = re.test(text) ? text.replace(re, () => line) : `${text.replace(/\n*$/, "\n")}${line}\n`;
    filled.push(key);
  }
  if (created || filled.length > 0) writeFileSync(file, text, { mode: 0o600 });
  if (created) log(`created .dev.vars from .dev.vars.example (generated ${filled.join(" and ")}; git-ignored, never commit it)`);
  else if (filled.length > 0) log(`.dev.vars: generated the missing ${filled.join(" and ")}`);
  return parseDotenv(text);
}

/** EDGETALK_ADMIN_USER as the Worker will see it: .dev.vars overrides wrangler.toml [vars]. */
function adminUser(devVars) {
  if (devVars.EDGETALK_ADMIN_USER) return devVars.EDGETALK_ADMIN_USER;
  const toml = existsSync("wrangler.toml") ? readFileSync("wrangler.toml", "utf8") : "";
  return toml.match(/^\s*EDGETALK_ADMIN_USER\s*=\s*"([^"]*)"/m)?.[1] || "admin";
}

// ---------------------------------------------------------------------------------------------
// Main

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function waitUntilUp(dev) {
  const deadline = Date.now() + TIMEOUT_S * 1000;
  let exited = false;
  dev.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${BASE}/status.php`, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (res.ok && body.includes('"installed"')) return true;
      if (res.status >= 500) {
        console.error(body);
        warn(`GET /status.php answered ${res.status}: see the wrangler output above`);
        return true;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

async function checkAdminLogin(user, password) {
  try {
    const res = await fetch(`${BASE}/ocs/v2.php/cloud/users/${encodeURIComponent(user)}`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
        "OCS-APIRequest": "true",
        Accept: "application/json",
      },
      signal: AbortSignal.timeout(15_000),
    });
    return res.status;
  } catch {
    return 0;
  }
}

async function main() {
  const [major] = process.versions.node.split(".").map(Number);
  if (major < 20) fail(`Node.js 20 or newer is required (this is ${process.version})`);
  if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) fail(`PORT must be a port number, got "${process.env.PORT}"`);

  if (!existsSync(WRANGLER)) {
    const lock = existsSync("package-lock.json");
    log(`installing dependencies (npm ${lock ? "ci" : "install"})...`);
    const code = await run("npm", [lock ? "ci" : "install", "--no-audit", "--no-fund"]);
    if (code !== 0 || !existsSync(WRANGLER)) fail(`npm ${lock ? "ci" : "install"} failed (exit ${code})`);
  }

  const devVars = ensureDevVars();
  const user = adminUser(devVars);
  const password = devVars.EDGETALK_ADMIN_PASSWORD ?? "";
  if (password === "admin") {
    warn(`the administrator password is the default "admin" (user "${user}"). Fine on this machine only:`);
    warn("set EDGETALK_ADMIN_PASSWORD in .dev.vars before the first start, and never deploy with it.");
  } else if (!password) {
    warn("EDGETALK_ADMIN_PASSWORD is empty in .dev.vars: no administrator account is seeded.");
  }

  if (!(await portFree(PORT))) fail(`port ${PORT} on ${HOST} is already in use (another \`npm start\`?); choose another with PORT=8788 npm start`);

  const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  log("applying D1 migrations to the local database...");
  // CI=true answers wrangler's "continue?" prompt with its non-interactive default (yes).
  const migrated = await run(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE_DIR], {
    env: { ...wranglerEnv, CI: "true" },
    stdin: "ignore",
  });
  if (migrated !== 0) fail(`applying the D1 migrations failed (exit ${migrated})`);

  log(`starting wrangler dev on ${BASE} ...`);
  const devArgs = ["dev", "--ip", HOST, "--port", String(PORT), "--persist-to", STATE_DIR, ...process.argv.slice(2)];
  // Its own process group: signals reach wrangler once (from us), and a stop takes workerd along.
  const dev = run(process.execPath, [WRANGLER, ...devArgs], { env: wranglerEnv, group: true, stdin: "ignore" });
  dev.then((code) => {
    if (!stopSignal) {
      console.error(`[edgetalk] wrangler dev exited (code ${code})`);
      process.exit(code === 0 ? 1 : code);
    }
  });

  if (!(await waitUntilUp(dev))) {
    console.error(`[edgetalk] ERROR: EdgeTalk did not answer GET ${BASE}/status.php within ${TIMEOUT_S} s; stopping.`);
    stopSignal = "SIGTERM";
    exitCode = 1;
    signalChild("SIGTERM");
    setTimeout(() => process.exit(1), 10_000).unref();
    return;
  }

  let loginNote = "";
  if (password) {
    const status = await checkAdminLogin(user, password);
    if (status === 401) {
      warn(`logging in as "${user}" with EDGETALK_ADMIN_PASSWORD from .dev.vars failed: the account already`);
      warn(`exists in ${STATE_DIR} with another password (the seed never overwrites it). Use that password, or`);
      warn(`stop, delete ${STATE_DIR} and start again for a clean database.`);
      loginNote = " (see the warning above)";
    } else if (status !== 200) {
      warn(`checking the admin login returned HTTP ${status || "no answer"}`);
    }
  }

  const shownPassword = password === "admin" ? "admin" : "<EDGETALK_ADMIN_PASSWORD from .dev.vars>";
  const lines = [
    "",
    bold(`EdgeTalk is running at ${BASE}  (up after ${elapsed()})`),
    "",
    `  Administrator   user "${user}", password ${password === "admin" ? '"admin" (the default: change it for anything but local use)' : "EDGETALK_ADMIN_PASSWORD in .dev.vars"}${loginNote}`,
    `  API docs        ${BASE}/docs   (OpenAPI document: ${BASE}/openapi.json)`,
    `  Your account    ${BASE}/account   (sign in, connected apps)`,
    `  Talk clients    server address ${BASE}   (they sign in through the login page)`,
    `  OpenTalk web    OIDC authority ${BASE}, client "Frontend", from http://localhost:3000 (README: Browser sign-in)`,
    "",
    "  Try it:",
    `    curl -s -u '${user}:${shownPassword}' -H 'OCS-APIRequest: true' -H 'Accept: application/json' \\`,
    `      ${BASE}/ocs/v2.php/cloud/users`,
    `    curl -s -d grant_type=password -d username='${user}' -d password='${shownPassword}' ${BASE}/oauth/token`,
    "",
    `  State (D1, Durable Objects, R2) persists in ${STATE_DIR}/ between runs. Press Ctrl+C to stop.`,
    "",
  ];
  console.log(lines.join("\n"));
}

main().catch((err) => {
  console.error(err);
  signalChild("SIGTERM");
  process.exit(1);
});
