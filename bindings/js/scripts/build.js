#!/usr/bin/env node
'use strict';
// Builds the package: the bindings crate for wasm32-unknown-unknown (release), then
// wasm-bindgen's JavaScript glue for Node (pkg/node) and for bundlers (pkg/bundler), with the
// TypeScript declarations of the WebAssembly side. Says what is missing, and how to get it,
// before it starts.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = path.resolve(__dirname, '..');
const root = path.resolve(here, '..', '..');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`build: ${cmd} ${args.join(' ')} exited with ${r.status}`);
    process.exit(1);
  }
}

function output(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

// The wasm-bindgen the lock file pins: the CLI must be that version exactly.
const lock = fs.readFileSync(path.join(root, 'Cargo.lock'), 'utf8');
const pinned = /name = "wasm-bindgen"\nversion = "([^"]+)"/.exec(lock);
if (!pinned) {
  console.error('build: Cargo.lock names no wasm-bindgen version');
  process.exit(1);
}
const version = pinned[1];

const missing = [];
if (output('cargo', ['--version']) === null) {
  missing.push('cargo: install Rust (https://rustup.rs), version 1.85 or later');
}
const targets = output('rustup', ['target', 'list', '--installed']);
if (targets !== null && !targets.split('\n').includes('wasm32-unknown-unknown')) {
  missing.push('the wasm32-unknown-unknown target: rustup target add wasm32-unknown-unknown');
}
const bindgen = output('wasm-bindgen', ['--version']);
if (bindgen === null) {
  missing.push(`wasm-bindgen-cli ${version}: cargo install wasm-bindgen-cli --version ${version}`);
} else if (!bindgen.includes(version)) {
  missing.push(`wasm-bindgen-cli ${version} (found ${bindgen.trim()}): ` +
    `cargo install wasm-bindgen-cli --version ${version} --force`);
}
if (missing.length > 0) {
  console.error('build: missing:\n' + missing.map((m) => `  - ${m}`).join('\n'));
  process.exit(1);
}

// Whole-program optimisation for the one artefact shipped (the workspace's release profile
// is left as it is for the native builds).
run('cargo', ['build', '-p', 'gbcs-js', '--target', 'wasm32-unknown-unknown', '--release'], {
  env: { ...process.env, CARGO_PROFILE_RELEASE_LTO: 'fat', CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '1' },
});
const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const wasm = path.join(target, 'wasm32-unknown-unknown', 'release', 'gbcs_js.wasm');
for (const [kind, dir] of [['nodejs', 'node'], ['bundler', 'bundler']]) {
  const out = path.join(here, 'pkg', dir);
  fs.rmSync(out, { recursive: true, force: true });
  run('wasm-bindgen', ['--target', kind, '--out-dir', out, wasm]);
}
const size = fs.statSync(path.join(here, 'pkg', 'node', 'gbcs_js_bg.wasm')).size;
console.log(`built pkg/node and pkg/bundler (${(size / 1024).toFixed(0)} KiB of WebAssembly)`);
