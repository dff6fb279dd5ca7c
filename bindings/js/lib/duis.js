'use strict';
// buildFromDuis: a DUIS service request to its GBCS command, as `gbcs build --duis` makes
// it. The WebAssembly side reads the request (its certificates checked first) and builds the
// pre-command; the signature and the MAC are added here, by the chosen backend.

function usage(message) {
  return Object.assign(new Error(message), { kind: 'Usage' });
}

/** `now` as RFC 3339: a string as given, a Date or milliseconds converted; default the clock. */
function rfc3339(now) {
  if (now === undefined) return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (typeof now === 'string') return now;
  const date = now instanceof Date ? now : new Date(now);
  if (Number.isNaN(date.getTime())) throw usage('now: not a time');
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function counterText(counter) {
  if (counter === undefined) throw usage('counter is required');
  if (typeof counter === 'number' && !Number.isSafeInteger(counter)) {
    throw usage('counter: a number beyond 2^53 is not exact; give a BigInt or a decimal string');
  }
  return String(counter);
}

/** Checks that the signing key is the originator's DS key, where its certificate says whose. */
function checkSigner(api, key, keyCert, originator) {
  if (!keyCert) return;
  const cert = api.publicKey(keyCert, 'keyCert');
  if (cert.kind !== 'certificate') throw usage('keyCert: not a certificate');
  if (cert.point !== key.point) {
    throw Object.assign(new Error('key: its certificate (keyCert) is for another key'), { kind: 'Check' });
  }
  if (cert.entityId !== originator || cert.keyUsage !== 'digitalSignature') {
    const whose = cert.entityId ? `${cert.entityId}'s` : 'a CA\'s';
    throw Object.assign(new Error(
      `key is ${whose} ${cert.keyUsage} key (keyCert), not the originator ${originator}'s digital-signature key`,
    ), { kind: 'Check' });
  }
}

/**
 * Builds the command of a DUIS request. `options`: `counter` (required; a BigInt or decimal
 * string beyond 2^53), `originator`, `acb`, `tcos` (entity IDs: DCC's parties for the
 * services they originate), `now`, `trustAnchor` (the SMKI root, PEM), `readAs`
 * (`cs02a`/`cs02f`, 6.24.1), `key` and `keyCert` (the originator's DS key and certificate),
 * `acbKey` and `deviceKa` (for the MAC), `deterministic`, `webcrypto`, `onNote`.
 */
async function buildFromDuis(api, backends, xml, options = {}) {
  const wasm = this;
  if (typeof xml !== 'string') throw new TypeError('xml: the DUIS request as a string');
  const plan = wasm.duisPrecommand(
    xml, counterText(options.counter), options.originator, options.acb, options.tcos,
    rfc3339(options.now), options.trustAnchor, options.readAs);
  try {
    for (const note of plan.notes) (options.onNote || (() => {}))(note);
    const pre = plan.precommand;
    const signs = plan.variant !== '6.24.1' && options.key !== undefined;
    if (plan.variant === '8.5' && options.key !== undefined) {
      throw usage('key: an 8.5 opt-out (mode 4, accessControlBrokerByACB) is not signed, only MAC\'d by the ACB');
    }
    const macs = options.acbKey !== undefined && options.deviceKa !== undefined;
    if (!signs && !macs) return pre;
    wasm.checkProtection(pre, signs, macs);
    let apdu;
    if (signs) {
      const key = api.privateKey(options.key, 'key');
      checkSigner(api, key, options.keyCert, plan.originator);
      apdu = await api.signPrecommand(pre, options.key, options);
    } else {
      apdu = wasm.appendNoSignature(pre);
    }
    return macs ? api.addMac(apdu, { acbKey: options.acbKey, deviceKa: options.deviceKa }, options) : apdu;
  } finally {
    plan.free();
  }
}

module.exports = buildFromDuis;
