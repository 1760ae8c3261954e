#!/usr/bin/env node
/**
 * `node scripts/types.mjs`          regenerate worker-configuration.d.ts (`npm run cf-typegen`)
 * `node scripts/types.mjs --check`  fail if it is out of date (part of `npm run check`)
 *
 * `wrangler types` adds every key of .dev.vars to `Env` as a secret (`string`), so its output, and
 * `wrangler types --check`, would depend on each developer's local secrets file, and differ in CI,
 * which has none. Here wrangler runs in a scratch directory holding a copy of wrangler.toml, the
 * committed .dev.vars.example in place of .dev.vars, and links to src/, migrations/ and
 * node_modules/: `Env` gets the [vars] as strings plus exactly the documented secrets, the same on
 * every machine. That is also what `wrangler dev` compares against when .dev.vars was created from
 * the example (it prints "types might be out of date" otherwise). `--check` reads the remaining
 * options, such as --strict-vars, back from the header of the committed file.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const typesFile = "worker-configuration.d.ts";
const check = process.argv.includes("--check");
const wrangler = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");

if (!existsSync(wrangler)) {
  console.error("wrangler is not installed: run `npm ci` first");
  process.exit(1);
}
if (check && !existsSync(path.join(root, typesFile))) {
  console.error(`${typesFile} is missing: run \`npm run cf-typegen\``);
  process.exit(1);
}

const scratch = mkdtempSync(path.join(tmpdir(), "edgetalk-types-"));
const links = [];
let status = 1;
try {
  for (const file of ["wrangler.toml", "package.json", "tsconfig.json"]) {
    copyFileSync(path.join(root, file), path.join(scratch, file));
  }
  copyFileSync(path.join(root, ".dev.vars.example"), path.join(scratch, ".dev.vars"));
  for (const dir of ["src", "migrations", "node_modules"]) {
    const link = path.join(scratch, dir);
    symlinkSync(path.join(root, dir), link, process.platform === "win32" ? "junction" : "dir");
    links.push(link);
  }
  if (check) copyFileSync(path.join(root, typesFile), path.join(scratch, typesFile));

  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_ENV;
  // Vars are typed as plain strings: their values are per-deployment, not the literals in wrangler.toml.
  const args = check ? ["types", "--check"] : ["types", "--strict-vars=false"];
  const result = spawnSync(process.execPath, [wrangler, ...args], { cwd: scratch, env, stdio: "inherit" });
  status = result.status ?? 1;
  if (status === 0 && !check) {
    copyFileSync(path.join(scratch, typesFile), path.join(root, typesFile));
    console.log(`Wrote ${typesFile} (from wrangler.toml and the keys of .dev.vars.example; your .dev.vars is not read)`);
  }
  if (status !== 0 && check) {
    console.error(`${typesFile} does not match wrangler.toml: run \`npm run cf-typegen\` and commit the result`);
  }
} finally {
  // Remove the links themselves first so nothing can ever recurse into the real directories.
  for (const link of links) unlinkSync(link);
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(status);
