#!/usr/bin/env node
'use strict';
// `npm run bench`: in one Node process, on the RTDS 6.23 command (CS02b supplierByTransCoS),
// times this package and — when installed (`npm install`, a devDependency) — DCC's
// TypeScript parser `@smartdcc/gbcs-parser`: parse only, and parse + verify signature + MAC.
// Node's own elliptic-curve primitives (OpenSSL) run beside them so every figure reads as a
// ratio. Medians of many runs, in microseconds; the machine is shared and noisy.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const gbcs = require('..');
const { shared } = require('../test/support.js');

const data = shared();
if (data.skip) {
  console.error(`bench: ${data.skip}`);
  process.exit(1);
}
const caseDir = path.join(data.dir, 'rtds', 'RTDS-4.5.0', '6.23_CS02bSupplierByTransCoS');
const commandFile = fs.readdirSync(caseDir).find((f) => /_COMMAND_GBCS\.HEX$/.test(f));
const text = fs.readFileSync(path.join(caseDir, commandFile), 'utf8').trim();
const keystoreDir = path.join(data.dir, 'rtds', 'keystore');
const ACB = '90B3D51F30000002';

/** Median time per call, in µs: warm up, then `rounds` rounds of `batch` calls. */
async function time(fn, { batch = 20, rounds = 60 } = {}) {
  for (let i = 0; i < batch * 5; i++) await fn();
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function keystoreFiles() {
  const keys = {};
  for (const f of fs.readdirSync(keystoreDir)) keys[f] = fs.readFileSync(path.join(keystoreDir, f), 'utf8');
  return keys;
}

/**
 * DCC's parser's key store callback over the RTDS keystore folder, keys read once and kept
 * (as its own test key store does), or one that finds no key.
 */
function dccKeyStore(findsKeys) {
  const cache = new Map();
  return async (eui, type, options) => {
    if (!findsKeys) throw new Error('no key');
    const id = (typeof eui === 'string' ? eui : Buffer.from(eui).toString('hex')).replace(/[^0-9a-f]/gi, '').toLowerCase();
    const priv = typeof options === 'boolean' ? options : Boolean(options && options.privateKey);
    const pp = options && typeof options === 'object' && options.prePayment ? '-pp' : '';
    const file = path.join(keystoreDir, `${id}${pp}-${String(type).toLowerCase()}.${priv ? 'key' : 'pem'}`);
    let key = cache.get(file);
    if (!key) {
      const pem = fs.readFileSync(file);
      key = priv ? crypto.createPrivateKey(pem) : crypto.createPublicKey(pem);
      cache.set(file, key);
    }
    return key;
  };
}

async function main() {
  const rows = [];
  const add = (name, us) => rows.push({ name, us });
  const all = gbcs.loadKeys(keystoreFiles());
  const needed = ['90b3d51f30000004-ds.pem', '90b3d51f30000002-ka.key', '00db1234567890a0-ka.pem'];
  const neededPem = Object.fromEntries(needed.map((f) => [f, fs.readFileSync(path.join(keystoreDir, f), 'utf8')]));
  // Check first: the timed calls verify.
  const check = await gbcs.verify(text, all, { acb: ACB });
  if (!check.authenticated || check.mac.status !== 'pass') throw new Error(`does not verify: ${JSON.stringify(check)}`);

  add('gbcs parse (hex text)', await time(() => gbcs.parse(text), { batch: 200 }));
  const both = (keys, options) => async () => {
    gbcs.parse(text);
    await gbcs.verify(text, keys, { acb: ACB, ...options });
  };
  add('gbcs parse + verify sig + MAC, WebCrypto, keys imported once', await time(both(all, { webcrypto: true })));
  add('gbcs parse + verify sig + MAC, WebCrypto ECDSA/ECDH + Rust GMAC', await time(both(all, { webcrypto: true, gmac: 'rust' })));
  add('gbcs parse + verify sig + MAC, Rust code, keys read once', await time(both(all, { webcrypto: false })));
  add('gbcs parse + verify sig + MAC, WebCrypto, 3 PEM keys read and imported each call', await time(async () => {
    gbcs.parse(text);
    await gbcs.verify(text, new gbcs.KeySet(require('../lib/wasm.js'), neededPem), { acb: ACB, webcrypto: true });
  }));
  add('gbcs verify only (no parse object), WebCrypto', await time(() => gbcs.verify(text, all, { acb: ACB, webcrypto: true })));

  // WebCrypto's own cost in this process, for the ratio.
  const subtle = globalThis.crypto.subtle;
  const ecdsa = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const signed = new Uint8Array(1900);
  const wsig = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ecdsa.privateKey, signed);
  add('WebCrypto ECDSA P-256 verify (1.9 KB)', await time(() => subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ecdsa.publicKey, wsig, signed)));
  add('WebCrypto AES-128-GCM import + 96-bit tag over 1.9 KB AAD', await time(async () => {
    const k = await subtle.importKey('raw', new Uint8Array(16), { name: 'AES-GCM' }, false, ['encrypt']);
    await subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12), additionalData: signed, tagLength: 96 }, k, new Uint8Array(0));
  }));

  // Node's primitives (OpenSSL): the floor any JavaScript verifier stands on.
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const peer = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const msg = Buffer.alloc(1900, 7);
  const sig = crypto.sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  add('node:crypto ECDSA P-256 sign (1.9 KB)', await time(() => crypto.sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' })));
  add('node:crypto ECDSA P-256 verify (1.9 KB)', await time(() => crypto.verify('sha256', msg, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)));
  add('node:crypto ECDH P-256', await time(() => crypto.diffieHellman({ privateKey, publicKey: peer.publicKey })));

  let dcc = null;
  try {
    dcc = require('@smartdcc/gbcs-parser');
  } catch {
    console.log('@smartdcc/gbcs-parser is not installed (`npm install` in bindings/js fetches it from npm): its rows are left out\n');
  }
  if (dcc) {
    const parseOnly = dccKeyStore(false);
    const withKeys = dccKeyStore(true);
    const call = (ks, acb) => dcc.parseGbcsMessage(text, ks, acb);
    add('@smartdcc/gbcs-parser parse (key store finds no key)', await time(() => call(parseOnly).catch(() => null), { batch: 5, rounds: 40 }));
    add('@smartdcc/gbcs-parser parse + verify sig + MAC (RTDS keystore, ACB ID)', await time(() => call(withKeys, ACB), { batch: 5, rounds: 40 }));
  }

  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`6.23 command (${commandFile}), Node ${process.version}, ${process.arch}, medians:`);
  for (const r of rows) console.log(`  ${r.name.padEnd(width)}  ${r.us.toFixed(1).padStart(8)} µs`);
  const find = (prefix) => rows.find((r) => r.name.startsWith(prefix));
  const verifyRow = find('gbcs parse + verify sig + MAC, WebCrypto, keys imported once');
  const nodeVerify = find('node:crypto ECDSA P-256 verify');
  console.log(`\n  gbcs verify / one node:crypto ECDSA verify: ${(verifyRow.us / nodeVerify.us).toFixed(2)}×`);
  if (dcc) {
    const parse = find('gbcs parse').us;
    const dccParse = find('@smartdcc/gbcs-parser parse').us;
    const dccVerify = find('@smartdcc/gbcs-parser parse + verify').us;
    console.log(`  parse: ${(dccParse / parse).toFixed(1)}× faster than @smartdcc/gbcs-parser (target ≥ 50×)`);
    const hybrid = find('gbcs parse + verify sig + MAC, WebCrypto ECDSA/ECDH + Rust GMAC').us;
    console.log(`  parse + verify: ${(dccVerify / verifyRow.us).toFixed(1)}× faster, ` +
      `${(dccVerify / hybrid).toFixed(1)}× with the Rust GMAC (target ≥ 2×)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
