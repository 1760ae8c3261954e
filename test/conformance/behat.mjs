/**
 * `npm run test:conformance`: spreed's own Behat features (Nextcloud Talk's integration suite, read
 * from ../shared/conformance/spreed-behat/features, or SPREED_FEATURES) replayed against a real
 * EdgeTalk under `wrangler dev`, with FeatureContext's step semantics (steps.mjs). Gherkin is
 * parsed with @cucumber/gherkin.
 *
 * Each scenario passes, fails, or is skipped at a step for a feature EdgeTalk does not serve (named
 * with its reason). The scenarios known to fail today are listed in known-failures.json with why;
 * the run fails when any other scenario fails, and when a listed one passes (so the list only
 * shrinks). Users and groups a scenario created are deleted after it, as FeatureContext does.
 *
 *   node test/conformance/behat.mjs [chat-1 conversation-3 …] [--base http://…] [--update]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from "@cucumber/gherkin";
import { IdGenerator } from "@cucumber/messages";
import { root, startEdgeTalk } from "../process/dev-server.mjs";
import { OUT_OF_SCOPE, STEPS } from "./steps.mjs";
import { StepFailure, World } from "./world.mjs";

const FEATURES = process.env.SPREED_FEATURES ?? path.resolve(root, "../shared/conformance/spreed-behat/features");
const KNOWN = path.join(path.dirname(new URL(import.meta.url).pathname), "known-failures.json");
const ADMIN_PASSWORD = "behat-admin-password-1";
/** Every directory SOURCE.md lists (conversations, participants, calls, lobby, SIP, chat). */
const DEFAULT_DIRS = ["callapi", "conversation-1", "conversation-3", "conversation-4", "conversation-5", "chat-1", "chat-2", "chat-3", "chat-4"];

const args = process.argv.slice(2);
const update = args.includes("--update");
const baseArg = args.includes("--base") ? args[args.indexOf("--base") + 1] : null;
const dirs = args.filter((a) => !a.startsWith("--") && a !== baseArg);

function scenarios() {
  const chosen = dirs.length > 0 ? dirs : DEFAULT_DIRS;
  const out = [];
  for (const dir of chosen) {
    const full = path.join(FEATURES, dir);
    for (const file of readdirSync(full).filter((f) => f.endsWith(".feature")).sort()) {
      const uri = `${dir}/${file}`;
      const doc = new Parser(new AstBuilder(IdGenerator.incrementing()), new GherkinClassicTokenMatcher()).parse(readFileSync(path.join(full, file), "utf8"));
      const seen = new Map();
      for (const pickle of compile(doc, uri, IdGenerator.incrementing())) {
        // Scenario names repeat within a file now and then: the second is "name #2".
        const n = (seen.get(pickle.name) ?? 0) + 1;
        seen.set(pickle.name, n);
        out.push({ id: `${uri}: ${pickle.name}${n > 1 ? ` #${n}` : ""}`, pickle });
      }
    }
  }
  return out;
}

function match(text) {
  for (const [pattern, reason] of OUT_OF_SCOPE) if (pattern.test(text)) return { skip: reason };
  for (const [pattern, handler] of STEPS) {
    const m = pattern.exec(text);
    if (m) return { handler, groups: m.slice(1) };
  }
  return { skip: `no step definition: ${text}` };
}

async function run(base, scenario) {
  const w = new World(base, ADMIN_PASSWORD);
  try {
    // A scenario with an out-of-scope step is skipped before it starts (nothing half-run).
    for (const step of scenario.pickle.steps) {
      const found = match(step.text);
      if (found.skip) return { result: "skipped", reason: found.skip };
    }
    for (const step of scenario.pickle.steps) {
      const { handler, groups } = match(step.text);
      const table = step.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)) ?? null;
      try {
        await handler(w, groups, table);
      } catch (err) {
        const why = err instanceof StepFailure ? err.message : String(err?.stack ?? err);
        return { result: "failed", reason: `${step.text}\n${why}` };
      }
    }
    return { result: "passed" };
  } finally {
    for (const user of w.createdUsers) await w.as("admin", () => w.request("DELETE", `/cloud/users/${user}`)).catch(() => {});
    for (const group of w.createdGroups) await w.as("admin", () => w.request("DELETE", `/cloud/groups/${group}`)).catch(() => {});
  }
}

async function main() {
  if (!existsSync(FEATURES)) {
    console.log(`conformance: spreed's features are not on this machine (${FEATURES}); nothing to run`);
    return 0;
  }
  const known = existsSync(KNOWN) ? JSON.parse(readFileSync(KNOWN, "utf8")) : {};
  const server = baseArg ? { base: baseArg, stop: async () => {} } : await startEdgeTalk({ label: "behat", adminPassword: ADMIN_PASSWORD });
  const results = [];
  try {
    for (const scenario of scenarios()) {
      const outcome = await run(server.base, scenario);
      results.push({ ...scenario, ...outcome });
      const mark = outcome.result === "passed" ? "✓" : outcome.result === "skipped" ? "-" : "✗";
      console.log(`${mark} ${scenario.id}${outcome.result === "skipped" ? `  [skipped: ${outcome.reason}]` : ""}`);
    }
  } finally {
    await server.stop();
  }
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) counts[r.result] += 1;
  console.log(`\n${results.length} scenarios: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);

  const failed = results.filter((r) => r.result === "failed");
  if (update) {
    const next = Object.fromEntries(failed.map((r) => [r.id, known[r.id] ?? r.reason.split("\n")[0]]));
    writeFileSync(KNOWN, `${JSON.stringify(next, null, 2)}\n`);
    console.log(`known-failures.json: ${failed.length} entries`);
    return 0;
  }
  const ran = new Set(results.map((r) => r.id));
  const unexpected = failed.filter((r) => !Object.hasOwn(known, r.id));
  const fixed = results.filter((r) => r.result === "passed" && Object.hasOwn(known, r.id));
  for (const r of unexpected) console.log(`\nFAILED ${r.id}\n  ${r.reason.replaceAll("\n", "\n  ")}`);
  for (const r of fixed) console.log(`\nNOW PASSES (remove it from known-failures.json): ${r.id}`);
  const stale = Object.keys(known).filter((id) => ran.has(id) && !failed.some((r) => r.id === id) && !fixed.some((r) => r.id === id));
  for (const id of stale) console.log(`\nSKIPPED NOW (remove it from known-failures.json): ${id}`);
  return unexpected.length + fixed.length + stale.length > 0 ? 1 : 0;
}

process.exitCode = await main();
