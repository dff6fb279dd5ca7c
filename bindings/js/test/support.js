'use strict';
// What the tests share: where the reference data and the CLI are, and running the CLI.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.resolve(__dirname, '..', '..', '..');

/**
 * The reference data folder (`GBCS_REFERENCE_DATA`, else `../shared` beside the repository),
 * or a reason to skip. With `GBCS_REFERENCE_DATA` set, a missing folder is a failure.
 */
function shared() {
  const given = process.env.GBCS_REFERENCE_DATA;
  const dir = given ? path.resolve(given) : path.resolve(repo, '..', 'shared');
  if (fs.existsSync(path.join(dir, 'rtds'))) return { dir };
  if (given) throw new Error(`GBCS_REFERENCE_DATA=${given}: no rtds folder there`);
  return { skip: `SKIPPED: no reference data at ${dir} (set GBCS_REFERENCE_DATA)` };
}

/**
 * The gbcs CLI (`GBCS_CLI`, else target/release/gbcs from `cargo build --release --features
 * cli`), or a reason to skip. With `GBCS_REQUIRE_CLI` set, a missing binary is a failure.
 */
function cli() {
  const bin = process.env.GBCS_CLI
    ? path.resolve(process.env.GBCS_CLI)
    : path.join(repo, 'target', 'release', 'gbcs');
  if (fs.existsSync(bin)) return { bin };
  const why = `no gbcs CLI at ${bin}: build it with \`cargo build --release --features cli\` (or set GBCS_CLI)`;
  if (process.env.GBCS_REQUIRE_CLI) throw new Error(why);
  return { skip: `SKIPPED: ${why}` };
}

/** Runs the CLI: `{ status, stdout, stderr }`. */
function run(bin, args) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * JSON text parsed with integers beyond 2^53 as BigInt (as the package gives them), so a
 * 64-bit counter compares exactly.
 */
function parseJsonExact(text) {
  const tagged = text.replace(/([:,[]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"\u0000big:$2"');
  return JSON.parse(tagged, (_, v) =>
    typeof v === 'string' && v.startsWith('\u0000big:') ? BigInt(v.slice(5)) : v);
}

/** The RTDS files of the CS02a, CS02b, CS02f and CS02g use-case folders. */
function cs02Files(dir) {
  const rtds = path.join(dir, 'rtds');
  const out = [];
  for (const release of fs.readdirSync(rtds)) {
    const releaseDir = path.join(rtds, release);
    if (release === 'keystore' || !fs.statSync(releaseDir).isDirectory()) continue;
    for (const useCase of fs.readdirSync(releaseDir)) {
      if (!/CS02[abfg]/.test(useCase)) continue;
      const caseDir = path.join(releaseDir, useCase);
      if (!fs.statSync(caseDir).isDirectory()) continue;
      for (const f of fs.readdirSync(caseDir)) {
        if (/_GBCS\.HEX$/i.test(f)) out.push(path.join(caseDir, f));
      }
    }
  }
  return out.sort();
}

/** The keystore as `{ file name: PEM }`. */
function keystore(dir) {
  const ks = path.join(dir, 'rtds', 'keystore');
  const keys = {};
  for (const f of fs.readdirSync(ks).sort()) {
    if (/\.(pem|key)$/.test(f)) keys[f] = fs.readFileSync(path.join(ks, f), 'utf8');
  }
  return keys;
}

module.exports = { repo, shared, cli, run, parseJsonExact, cs02Files, keystore };
