'use strict';
// Keys given as PEM text, read once (by the WebAssembly side: what each document is and
// whose), with the platform keys and shared secrets made from them kept for reuse.

/** Hex of bytes, for comparing points. */
function hex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The `[name, pem]` pairs of what a caller gave. */
function pairs(keys) {
  if (keys == null) return [];
  if (typeof keys === 'string') return [['#0', keys]];
  if (Array.isArray(keys)) return keys.map((pem, i) => [`#${i}`, pem]);
  if (keys instanceof Map) return [...keys.entries()];
  if (typeof keys === 'object') return Object.entries(keys);
  throw new TypeError('keys: PEM text, an array of PEM texts, or an object or Map of name to PEM');
}

/**
 * A set of keys read from PEM: certificates (whose entity ID, role and key usage are known),
 * public keys, and private keys (matched to a certificate in the set with the same public
 * key, which then says whose they are).
 */
class KeySet {
  constructor(wasm, keys) {
    this.entries = [];
    this.secrets = new Map();
    this.memo = new Map();
    const byPoint = new Map();
    for (const [name, pem] of pairs(keys)) {
      if (typeof pem !== 'string') throw new TypeError(`key ${name}: PEM text expected`);
      let info;
      try {
        info = wasm.describeKey(pem);
      } catch (e) {
        e.message = `key ${name}: ${e.message}`;
        e.key = name;
        throw e;
      }
      const entry = {
        name,
        kind: info.kind,
        entityId: info.entityId,
        role: info.role,
        keyUsage: info.keyUsage,
        publicKey: info.publicKey,
        pkcs8: info.pkcs8,
        point: '',
        platform: {},
      };
      info.free();
      entry.point = hex(entry.publicKey);
      this.entries.push(entry);
      if (entry.kind === 'certificate' && !byPoint.has(entry.point)) byPoint.set(entry.point, entry);
    }
    for (const entry of this.entries) {
      const cert = byPoint.get(entry.point);
      if (entry.kind !== 'certificate' && cert) {
        entry.entityId = cert.entityId;
        entry.role = cert.role;
        entry.keyUsage = cert.keyUsage;
        entry.certificate = cert.name;
      }
    }
  }

  /** The entries that may be `entityId`'s key of `usage`: its own first, then unknown ones. */
  candidates(entityId, usage, { privateOnly = false } = {}) {
    // A set does not change once read: each answer is worked out once.
    const memo = `${entityId}|${usage}|${privateOnly}`;
    let answer = this.memo.get(memo);
    if (!answer) {
      answer = this.findCandidates(entityId, usage, privateOnly);
      this.memo.set(memo, answer);
    }
    return answer;
  }

  findCandidates(entityId, usage, privateOnly) {
    const fits = (e) => (!privateOnly || e.pkcs8) && (e.keyUsage === undefined || e.keyUsage === usage);
    const seen = new Set();
    const out = [];
    const add = (e) => {
      const id = `${e.point}:${privateOnly}`;
      if (!seen.has(id)) {
        seen.add(id);
        out.push(e);
      }
    };
    this.entries.filter((e) => fits(e) && e.entityId === entityId).forEach(add);
    this.entries.filter((e) => fits(e) && e.entityId === undefined).forEach(add);
    return out;
  }

  /** The entry named `name`. */
  get(name) {
    return this.entries.find((e) => e.name === name);
  }
}

module.exports = { KeySet };
