'use strict';
// The package against DCC's reference data: every file of the CS02a, CS02b, CS02f and CS02g
// use-case folders decodes to what `gbcs decode --json` prints, and every signature and MAC
// verifies with the keystore's PEM files, through WebCrypto and through the Rust code.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const gbcs = require('..');
const { shared, cli, run, parseJsonExact, cs02Files, keystore } = require('./support.js');

const data = shared();
const tool = cli();

test('every CS02 file parses to the object gbcs decode --json prints', { skip: data.skip || tool.skip }, () => {
  const files = cs02Files(data.dir);
  assert.ok(files.length > 0, 'some CS02 files');
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const ours = gbcs.parse(text);
    const out = run(tool.bin, ['decode', '--json', file]);
    assert.equal(out.status, 0, `${file}: ${out.stderr}`);
    assert.deepStrictEqual(ours, parseJsonExact(out.stdout), path.basename(file));
    // The same bytes as a Uint8Array and as base64 give the same object.
    const bytes = Buffer.from(text.replace(/\s+/g, ''), 'hex');
    assert.deepStrictEqual(gbcs.parse(new Uint8Array(bytes)), ours);
    assert.deepStrictEqual(gbcs.parse(bytes.toString('base64')), ours);
  }
});

for (const webcrypto of [true, false]) {
  const backend = webcrypto ? 'WebCrypto' : 'the Rust code';
  test(`every signature and MAC verifies with the keystore, through ${backend}`, { skip: data.skip }, async (t) => {
    const keys = gbcs.loadKeys(keystore(data.dir));
    let signatures = 0;
    let macs = 0;
    for (const file of cs02Files(data.dir)) {
      const name = path.basename(file);
      const r = await gbcs.verify(fs.readFileSync(file, 'utf8'), keys, { webcrypto });
      assert.equal(r.backend, webcrypto ? 'webcrypto' : 'rust');
      assert.ok(['pass', 'none', 'absent'].includes(r.signature.status), `${name}: ${JSON.stringify(r)}`);
      assert.ok(['pass', 'absent'].includes(r.mac.status), `${name}: ${JSON.stringify(r)}`);
      if (r.signature.status === 'pass') {
        signatures++;
        assert.match(r.signature.key, /\.(pem|key)$/, name);
      }
      if (r.mac.status === 'pass') {
        macs++;
        assert.equal(r.mac.keys.length, 2, name);
      }
      const precommand = /_PRECOMMAND_/.test(name);
      assert.equal(r.authenticated, !precommand, `${name}: ${JSON.stringify(r)}`);
    }
    t.diagnostic(`${signatures} signatures and ${macs} MACs verified`);
    assert.ok(signatures > 0 && macs > 0, `signatures ${signatures}, MACs ${macs}`);
  });

  test(`a changed signature or MAC byte fails, through ${backend}`, { skip: data.skip }, async () => {
    const keys = gbcs.loadKeys(keystore(data.dir));
    for (const file of cs02Files(data.dir)) {
      const name = path.basename(file);
      const bytes = Buffer.from(fs.readFileSync(file, 'utf8').replace(/\s+/g, ''), 'hex');
      const r = await gbcs.verify(bytes, keys, { webcrypto });
      if (r.mac.status === 'pass') {
        // The MAC is the last 12 bytes.
        const flipped = Uint8Array.from(bytes);
        flipped[flipped.length - 1] ^= 0x01;
        const f = await gbcs.verify(flipped, keys, { webcrypto });
        assert.equal(f.mac.status, 'fail', name);
        assert.equal(f.authenticated, false, name);
      }
      if (r.signature.status === 'pass') {
        // A byte the signature covers (the last payload byte before the signature tail).
        const tailAt = bytes.length - 65 - (r.mac.status === 'absent' ? 0 : 12);
        const flipped = Uint8Array.from(bytes);
        flipped[tailAt - 1] ^= 0x01;
        let f;
        try {
          f = await gbcs.verify(flipped, keys, { webcrypto });
        } catch (e) {
          // A flip can make the payload unreadable: refused, with where.
          assert.ok(e instanceof Error && typeof e.offset === 'number', `${name}: ${e}`);
          continue;
        }
        assert.equal(f.signature.status, 'fail', name);
        assert.equal(f.authenticated, false, name);
      }
    }
  });
}

test('every prefix of the 6.23 command throws an Error with its offset', { skip: data.skip }, () => {
  const files = cs02Files(data.dir).filter((f) => /_6\.23_.*_COMMAND_GBCS/.test(path.basename(f)));
  assert.ok(files.length > 0, 'the 6.23 command');
  for (const file of files) {
    const bytes = Buffer.from(fs.readFileSync(file, 'utf8').replace(/\s+/g, ''), 'hex');
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(() => gbcs.parse(bytes.subarray(0, n)), (e) => {
        assert.ok(e instanceof Error, `prefix ${n}`);
        assert.equal(typeof e.offset, 'number', `prefix ${n}: ${e.message}`);
        assert.equal(typeof e.field, 'string', `prefix ${n}`);
        assert.ok(e.offset <= n, `prefix ${n}: offset ${e.offset}`);
        return true;
      });
    }
  }
});
