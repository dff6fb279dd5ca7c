'use strict';
// gbcs for JavaScript. The codec is the gbcs crate compiled to WebAssembly; the elliptic-curve
// and AES work is the platform's WebCrypto where there is one (so verify, signPrecommand,
// addMac and buildFromDuis are async), else the crate's Rust code.
const wasm = require('./lib/wasm.js');
const { KeySet } = require('./lib/keys.js');
const backends = require('./lib/backends.js');

/** Text that is only hex digits and white space (`0x` allowed first). */
const HEX = /^\s*(?:0[xX])?([0-9a-fA-F\s]*)$/;

/** The bytes of a message: a Uint8Array (or Buffer) as is, a string as hex or base64. */
function toBytes(input, what = 'message') {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (typeof input === 'string') {
    // Hex through Node's Buffer where there is one (several times faster than crossing into
    // WebAssembly with the text); anything else — base64, an odd digit count, a browser —
    // through the crate's reader, which says what is wrong.
    const hex = HEX.exec(input);
    if (hex && typeof Buffer === 'function') {
      const digits = hex[1].replace(/\s+/g, '');
      if (digits.length % 2 === 0) return Buffer.from(digits, 'hex');
    }
    return wasm.messageFromText(input);
  }
  throw new TypeError(`${what}: a Uint8Array, or a string of hex or base64`);
}

/**
 * Decodes a GBCS message into the object `gbcs decode --json` prints (integers beyond 2^53,
 * such as 64-bit counters, as BigInt). Throws an Error with `kind`, `field` and `offset`.
 */
function parse(input) {
  const json = wasm.parseJson(toBytes(input));
  // The reviver only when a 64-bit integer is there (it slows JSON.parse down).
  if (!json.includes(BIG_JSON)) return JSON.parse(json);
  return JSON.parse(json, (_, v) => (typeof v === 'string' && v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v));
}

/** How the WebAssembly side marks an integer beyond 2^53 (a NUL begins no other string). */
const BIG = '\u0000bigint:';
/** The same as JSON text writes it. */
const BIG_JSON = '\\u0000bigint:';

const keySets = new WeakMap();

/** Reads keys once (PEM text: certificates, SPKI public keys, PKCS#8 or SEC1 private keys). */
function loadKeys(keys) {
  if (keys instanceof KeySet) return keys;
  if (keys !== null && typeof keys === 'object') {
    let set = keySets.get(keys);
    if (!set) {
      set = new KeySet(wasm, keys);
      keySets.set(keys, set);
    }
    return set;
  }
  return new KeySet(wasm, keys);
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Z for a pair of keys, computed once per key set. */
async function sharedSecret(set, backend, own, peer) {
  const id = `${own.point}:${peer.point}`;
  let z = set.secrets.get(id);
  if (!z) {
    z = await backend.ecdh(own, peer);
    set.secrets.set(id, z);
  }
  return z;
}

async function checkSignature(m, set, backend) {
  if (m.tail === 'none') return { status: 'none' };
  if (m.tail === 'absent') return { status: 'absent' };
  const candidates = set.candidates(m.originator, 'digitalSignature');
  if (candidates.length === 0) return { status: 'no-key', signer: m.originator };
  const data = m.signedBytes;
  const signature = m.signature;
  for (const key of candidates) {
    if (await backend.verify(key, data, signature)) {
      return { status: 'pass', signer: m.originator, key: key.name };
    }
  }
  // A failure is the signer's own key not verifying; keys nothing names only may have been it.
  const own = candidates.some((k) => k.entityId === m.originator);
  return { status: own ? 'fail' : 'no-key', signer: m.originator, tried: candidates.map((k) => k.name) };
}

async function checkMac(m, set, backend, options) {
  const plan = m.macPlan;
  if (!plan) return { status: 'absent' };
  try {
    const device = m.isCommand ? m.recipient : m.originator;
    const remote = m.isCommand ? m.originator : m.recipient;
    // The ACB's MAC: the ACB named, else every ACB the keys' certificates name; another
    // message's MAC may be the remote party's too.
    const acbs = options.acb !== undefined
      ? [String(options.acb).toUpperCase()]
      : [...new Set(set.entries.filter((e) => e.role === 'accessControlBroker').map((e) => e.entityId))];
    const parties = m.isCredentials ? acbs : [...new Set([...acbs, remote])];
    // Either end's private KA key with the other end's public KA key.
    const pairs = [];
    const seen = new Set();
    for (const party of parties.length > 0 ? parties : [undefined]) {
      for (const [a, b] of [[party, device], [device, party]]) {
        for (const own of set.candidates(a, 'keyAgreement', { privateOnly: true })) {
          for (const peer of set.candidates(b, 'keyAgreement')) {
            const id = `${own.point}:${peer.point}`;
            if (own.point !== peer.point && !seen.has(id)) {
              seen.add(id);
              pairs.push([own, peer]);
            }
          }
        }
      }
    }
    if (pairs.length === 0) return { status: 'no-key', device, remote };
    const mac = m.mac;
    const iv = plan.iv;
    const aad = plan.aad;
    for (const [own, peer] of pairs) {
      const z = await sharedSecret(set, backend, own, peer);
      const tag = await backend.gmac(plan.key(z), iv, aad);
      if (equal(tag, mac)) return { status: 'pass', device, keys: [own.name, peer.name] };
    }
    // A failure is a pair whose keys the set names as the two ends not making the MAC.
    const named = pairs.some(([a, b]) => a.entityId !== undefined && b.entityId !== undefined);
    return { status: named ? 'fail' : 'no-key', device, tried: pairs.map(([a, b]) => [a.name, b.name]) };
  } finally {
    plan.free();
  }
}

/**
 * Verifies a message's signature and MAC with the keys given: which key made each, or why
 * none did. `options.acb`: the ACB's entity ID (else the ACBs the keys' certificates name);
 * `options.webcrypto`: `false` for the Rust code, `true` to require WebCrypto.
 */
async function verify(input, keys, options = {}) {
  const bytes = toBytes(input);
  const set = loadKeys(keys);
  const backend = backends.choose(wasm, options);
  const m = wasm.inspect(bytes);
  try {
    // Both at once: WebCrypto's work runs on the platform's threads.
    const [signature, mac] = await Promise.all([checkSignature(m, set, backend), checkMac(m, set, backend, options)]);
    const failed = signature.status === 'fail' || mac.status === 'fail';
    const authenticated = !failed && (signature.status === 'pass' || mac.status === 'pass');
    return { signature, mac, authenticated, backend: backend.name };
  } finally {
    m.free();
  }
}

/** Single keys given as PEM text, read once each (a few dozen kept, the oldest dropped). */
const singles = new Map();
const SINGLES_KEPT = 64;

/** The key set of one PEM text, from `singles` when it was read before. */
function single(pem, what) {
  const id = `${what}\n${pem}`;
  let set = singles.get(id);
  if (!set) {
    set = new KeySet(wasm, { [what]: pem });
    if (singles.size >= SINGLES_KEPT) singles.delete(singles.keys().next().value);
    singles.set(id, set);
  }
  return set;
}

/** The one private key in PEM text `pem` (or the first of a key set). */
function privateKey(pem, what) {
  const set = typeof pem === 'string' ? single(pem, what) : loadKeys(pem);
  const entry = set.entries.find((e) => e.pkcs8);
  if (!entry) throw Object.assign(new Error(`${what}: not a private key`), { kind: 'Key' });
  return entry;
}

/** The one public key (certificate or SPKI) in PEM text `pem`. */
function publicKey(pem, what) {
  const set = typeof pem === 'string' ? single(pem, what) : loadKeys(pem);
  const entry = set.entries[0];
  if (!entry || entry.kind === 'privateKey') {
    throw Object.assign(new Error(`${what}: not a certificate or public key`), { kind: 'Key' });
  }
  return entry;
}

/**
 * Signs a pre-command with a DS private key (PEM): by RFC 6979 with `{ deterministic: true }`
 * (the Rust code, as `gbcs sign --deterministic`), else by the chosen backend.
 */
async function signPrecommand(precommand, key, options = {}) {
  const pre = toBytes(precommand, 'precommand');
  const data = wasm.signedBytes(pre);
  const entry = privateKey(key, 'key');
  const backend = options.deterministic
    ? backends.choose(wasm, { webcrypto: false })
    : backends.choose(wasm, options);
  const signature = await backend.sign(entry, data, Boolean(options.deterministic));
  return wasm.appendSignature(pre, signature);
}

/**
 * Wraps a signed (or `00`-tailed) APDU in the MAC header with the ACB's MAC: `keys.acbKey`
 * the ACB's KA private key, `keys.deviceKa` the device's KA certificate (as `gbcs mac`).
 */
async function addMac(apdu, keys, options = {}) {
  const bytes = toBytes(apdu, 'apdu');
  const own = privateKey(keys.acbKey, 'acbKey');
  const peer = publicKey(keys.deviceKa, 'deviceKa');
  const backend = backends.choose(wasm, options);
  const plan = wasm.macPlanForApdu(bytes);
  try {
    const z = await backend.ecdh(own, peer);
    const tag = await backend.gmac(plan.key(z), plan.iv, plan.aad);
    return wasm.wrapMac(bytes, tag);
  } finally {
    plan.free();
  }
}

module.exports = { parse, verify, loadKeys, signPrecommand, addMac, KeySet, toBytes };
// What lib/duis.js uses besides the API (not exported).
const internals = { ...module.exports, privateKey, publicKey };
module.exports.buildFromDuis = require('./lib/duis.js').bind(wasm, internals, backends);
