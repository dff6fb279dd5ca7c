'use strict';
// The two ways the package does elliptic-curve and AES work: the platform's WebCrypto
// (`crypto.subtle`: ECDSA P-256 with raw r || s, ECDH deriveBits, AES-GCM with a 96-bit tag
// over empty plaintext as the GMAC), and the crate's RustCrypto code in the WebAssembly
// module where WebCrypto is absent. Keys are imported once per entry and kept on it.

const CURVE = { namedCurve: 'P-256' };

/** The platform's SubtleCrypto, if there is one. */
function platformSubtle() {
  const c = globalThis.crypto;
  return c && c.subtle ? c.subtle : null;
}

function webcrypto(subtle) {
  const once = (entry, slot, make) => {
    if (!entry.platform[slot]) entry.platform[slot] = make();
    return entry.platform[slot];
  };
  return {
    name: 'webcrypto',
    async verify(entry, data, signature) {
      const key = await once(entry, 'ecdsaPublic', () =>
        subtle.importKey('raw', entry.publicKey, { name: 'ECDSA', ...CURVE }, false, ['verify']));
      return subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, data);
    },
    async sign(entry, data) {
      const key = await once(entry, 'ecdsaPrivate', () =>
        subtle.importKey('pkcs8', entry.pkcs8, { name: 'ECDSA', ...CURVE }, false, ['sign']));
      return new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data));
    },
    async ecdh(own, peer) {
      const [priv, pub] = await Promise.all([
        once(own, 'ecdhPrivate', () =>
          subtle.importKey('pkcs8', own.pkcs8, { name: 'ECDH', ...CURVE }, false, ['deriveBits'])),
        once(peer, 'ecdhPublic', () =>
          subtle.importKey('raw', peer.publicKey, { name: 'ECDH', ...CURVE }, false, [])),
      ]);
      return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: pub }, priv, 256));
    },
    async gmac(k, iv, aad) {
      const key = await subtle.importKey('raw', k, { name: 'AES-GCM' }, false, ['encrypt']);
      const tag = await subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad, tagLength: 96 }, key, new Uint8Array(0));
      return new Uint8Array(tag);
    },
  };
}

function rust(wasm) {
  return {
    name: 'rust',
    async verify(entry, data, signature) {
      return wasm.rustVerify(entry.publicKey, data, signature);
    },
    async sign(entry, data, deterministic = false) {
      return wasm.rustSign(entry.pkcs8, data, deterministic);
    },
    async ecdh(own, peer) {
      return wasm.rustEcdh(own.pkcs8, peer.publicKey);
    },
    async gmac(k, iv, aad) {
      return wasm.rustGmac(k, iv, aad);
    },
  };
}

/**
 * The backend `options.webcrypto` asks for: `true` requires WebCrypto, `false` takes the Rust
 * code, absent takes WebCrypto where the platform has it. `options.gmac: 'rust'` keeps the
 * AES-GCM of the MAC in the Rust code while WebCrypto does the elliptic-curve work.
 */
function choose(wasm, options = {}) {
  const subtle = platformSubtle();
  if (options.webcrypto === true && !subtle) {
    throw new Error('gbcs: WebCrypto (crypto.subtle) is not available on this platform');
  }
  if (options.webcrypto === false || !subtle) return rust(wasm);
  const chosen = webcrypto(subtle);
  // The GMAC in the Rust code beside WebCrypto's ECDSA and ECDH: a MAC key is new for every
  // message, so WebCrypto's AES-GCM costs an import and an encryption, each an asynchronous
  // hop to the platform's threads (about 0.5 ms together in Node 20 against 45 µs here).
  if (options.gmac === 'rust') chosen.gmac = rust(wasm).gmac;
  return chosen;
}

module.exports = { choose };
