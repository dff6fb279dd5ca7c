'use strict';
// Building: buildFromDuis gives the bytes `gbcs build --duis … --deterministic` gives for
// every DUIS template, or the same refusal; signPrecommand and addMac match `gbcs sign` and
// `gbcs mac`; WebCrypto's randomized signatures verify.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const gbcs = require('..');
const { shared, cli, run, cs02Files } = require('./support.js');

const data = shared();
const tool = cli();
// DCC's parties as the RTDS names them: the test's choice (the package names no party).
const ACB = '90B3D51F30000002';
const TCOS = '90B3D51F30000004';
const NOW = '2026-12-07T09:30:00Z';

function keyFile(dir, name) {
  const p = path.join(dir, 'rtds', 'keystore', name);
  return fs.existsSync(p) ? p : undefined;
}

/** The CLI's exit code for each kind of the package's errors. */
const EXIT = { Check: 1, Usage: 2, Decode: 3, Key: 4, ModeRule: 3 };

/** `[value]` or `[undefined, error]` of a promise. */
async function settle(promise) {
  try {
    return [await promise];
  } catch (e) {
    return [undefined, e];
  }
}

function templates(dir) {
  return fs.readdirSync(path.join(dir, 'duis'))
    .filter((f) => /\.xml$/i.test(f))
    .sort()
    .map((f) => path.join(dir, 'duis', f));
}

test('buildFromDuis gives the CLI\'s bytes or its refusal for every DUIS template', { skip: data.skip || tool.skip }, async (t) => {
  let built = 0;
  let refused = 0;
  for (const file of templates(data.dir)) {
    const name = path.basename(file);
    const xml = fs.readFileSync(file, 'utf8');
    const common = ['build', '--duis', file, '--acb', ACB, '--tcos', TCOS, '--counter', '7000', '--now', NOW, '--deterministic'];
    const options = { acb: ACB, tcos: TCOS, counter: 7000, now: NOW, deterministic: true };
    // First the pre-command (no keys), then with the originator's keys and the ACB's MAC.
    const [js, err] = await settle(gbcs.buildFromDuis(xml, options));
    const pre = run(tool.bin, common);
    const check = (label, out, bytes, error) => {
      if (error) {
        assert.ok(error instanceof Error, `${name} ${label}`);
        assert.notEqual(out.status, 0, `${name} ${label}: the CLI built what the package refused: ${error.message}`);
        assert.equal(out.status, EXIT[error.kind], `${name} ${label}: ${error.kind} ${error.message} / ${out.stderr}`);
        refused++;
      } else {
        assert.equal(out.status, 0, `${name} ${label}: ${out.stderr}`);
        assert.equal(Buffer.from(bytes).toString('hex').toUpperCase(), out.stdout.trim(), `${name} ${label}`);
        built++;
      }
    };
    check('pre-command', pre, js, err);
    if (err) continue;
    const header = gbcs.parse(js).grouping_header;
    const signer = keyFile(data.dir, `${header.originator.toLowerCase()}-ds.key`)
      || keyFile(data.dir, `${TCOS.toLowerCase()}-ds.key`);
    const cert = signer.replace(/\.key$/, '.pem');
    const deviceKa = keyFile(data.dir, `${header.recipient.toLowerCase()}-ka.pem`);
    const acbKey = keyFile(data.dir, `${ACB.toLowerCase()}-ka.key`);
    const args = [...common, '--key', signer];
    const keyed = { ...options, key: fs.readFileSync(signer, 'utf8') };
    if (fs.existsSync(cert)) keyed.keyCert = fs.readFileSync(cert, 'utf8');
    if (deviceKa && acbKey) {
      args.push('--acb-key', acbKey, '--device-ka', deviceKa);
      keyed.acbKey = fs.readFileSync(acbKey, 'utf8');
      keyed.deviceKa = fs.readFileSync(deviceKa, 'utf8');
    }
    const [full, fullErr] = await settle(gbcs.buildFromDuis(xml, keyed));
    check('signed and MAC\'d', run(tool.bin, args), full, fullErr);
  }
  t.diagnostic(`built ${built}, refused ${refused} (both as the CLI)`);
  assert.ok(built > 0, `built ${built}, refused ${refused}`);
});

test('signPrecommand and addMac give the bytes gbcs sign --deterministic and gbcs mac give', { skip: data.skip || tool.skip }, async () => {
  const precommands = cs02Files(data.dir).filter((f) => /_6\.23_.*_PRECOMMAND_GBCS/.test(f) || /6\.15\.1.*IMMEDIATE_SUCCESS_PRECOMMAND/.test(f));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gbcs-js-'));
  let checked = 0;
  for (const file of precommands) {
    const pre = fs.readFileSync(file, 'utf8');
    const header = gbcs.parse(pre).grouping_header;
    const key = keyFile(data.dir, `${header.originator.toLowerCase()}-ds.key`);
    const deviceKa = keyFile(data.dir, `${header.recipient.toLowerCase()}-ka.pem`);
    const acbKey = keyFile(data.dir, `${ACB.toLowerCase()}-ka.key`);
    if (!key || !deviceKa || !acbKey) continue;
    const signed = await gbcs.signPrecommand(pre, fs.readFileSync(key, 'utf8'), { deterministic: true });
    const cliSigned = run(tool.bin, ['sign', '--key', key, '--deterministic', file]);
    assert.equal(cliSigned.status, 0, cliSigned.stderr);
    assert.equal(Buffer.from(signed).toString('hex').toUpperCase(), cliSigned.stdout.trim(), file);
    const signedFile = path.join(tmp, 'signed.hex');
    fs.writeFileSync(signedFile, cliSigned.stdout);
    for (const webcrypto of [true, false]) {
      const macd = await gbcs.addMac(signed, { acbKey: fs.readFileSync(acbKey, 'utf8'), deviceKa: fs.readFileSync(deviceKa, 'utf8') }, { webcrypto });
      const cliMacd = run(tool.bin, ['mac', '--key', acbKey, '--peer', deviceKa, signedFile]);
      assert.equal(cliMacd.status, 0, cliMacd.stderr);
      assert.equal(Buffer.from(macd).toString('hex').toUpperCase(), cliMacd.stdout.trim(), file);
    }
    checked++;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.ok(checked > 0, 'some pre-command had its keys in the keystore');
});

test('WebCrypto signs with fresh randomness, and what it signs verifies', { skip: data.skip }, async () => {
  const file = cs02Files(data.dir).find((f) => /_6\.23_.*_PRECOMMAND_GBCS|6\.15\.1.*IMMEDIATE_SUCCESS_PRECOMMAND/.test(f));
  assert.ok(file, 'a pre-command');
  const pre = fs.readFileSync(file, 'utf8');
  const originator = gbcs.parse(pre).grouping_header.originator.toLowerCase();
  const key = fs.readFileSync(keyFile(data.dir, `${originator}-ds.key`), 'utf8');
  const cert = fs.readFileSync(keyFile(data.dir, `${originator}-ds.pem`), 'utf8');
  const a = await gbcs.signPrecommand(pre, key, { webcrypto: true });
  const b = await gbcs.signPrecommand(pre, key, { webcrypto: true });
  assert.notDeepStrictEqual(a, b, 'two signatures differ');
  for (const signed of [a, b]) {
    for (const webcrypto of [true, false]) {
      const r = await gbcs.verify(signed, [cert], { webcrypto });
      assert.equal(r.signature.status, 'pass', JSON.stringify(r));
    }
  }
  const wrong = Uint8Array.from(a);
  wrong[wrong.length - 1] ^= 0x80;
  assert.equal((await gbcs.verify(wrong, [cert])).signature.status, 'fail');
});

test('bad inputs are refused with a clear Error', async () => {
  assert.throws(() => gbcs.parse('not hex or base64 !'), (e) => e instanceof Error && e.kind === 'Input');
  assert.throws(() => gbcs.parse(42), TypeError);
  assert.throws(() => gbcs.parse(new Uint8Array(0)), (e) => e instanceof Error && e.offset === 0);
  assert.throws(() => gbcs.loadKeys({ broken: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
    (e) => e instanceof Error && e.key === 'broken' && /broken/.test(e.message));
  await assert.rejects(gbcs.buildFromDuis('<not-duis/>', { counter: 1, now: NOW }), (e) => e instanceof Error && e.kind === 'Decode');
  await assert.rejects(gbcs.buildFromDuis('<x/>', { counter: 2 ** 60, now: NOW }), (e) => e.kind === 'Usage');
  await assert.rejects(gbcs.buildFromDuis('<x/>', { now: NOW }), (e) => e.kind === 'Usage');
  await assert.rejects(gbcs.signPrecommand('DF09', '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----'), Error);
});

test('a signer whose certificate is another key\'s, or another party\'s, is refused; a wrong ACB finds no MAC key', { skip: data.skip }, async () => {
  const read = (name) => fs.readFileSync(keyFile(data.dir, name), 'utf8');
  const file = templates(data.dir).find((f) => /_6\.23_/.test(path.basename(f)));
  assert.ok(file, 'the 6.23 template');
  const xml = fs.readFileSync(file, 'utf8');
  const base = { acb: ACB, tcos: TCOS, counter: 7000, now: NOW, deterministic: true, key: read(`${TCOS.toLowerCase()}-ds.key`) };
  const ok = await gbcs.buildFromDuis(xml, { ...base, keyCert: read(`${TCOS.toLowerCase()}-ds.pem`) });
  assert.ok(ok.length > 0);
  // The ACB's DS certificate: another key, and another party's.
  await assert.rejects(gbcs.buildFromDuis(xml, { ...base, keyCert: read(`${ACB.toLowerCase()}-ka.pem`) }),
    (e) => e.kind === 'Check' && /another key/.test(e.message));
  const command = cs02Files(data.dir).find((f) => /_6\.23_.*_COMMAND_GBCS/.test(f));
  const keys = {
    acb: read(`${ACB.toLowerCase()}-ka.key`),
    acbCert: read(`${ACB.toLowerCase()}-ka.pem`),
    device: read(`${gbcs.parse(fs.readFileSync(command, 'utf8')).grouping_header.recipient.toLowerCase()}-ka.pem`),
  };
  const right = await gbcs.verify(fs.readFileSync(command, 'utf8'), keys, { acb: ACB });
  assert.equal(right.mac.status, 'pass');
  const wrong = await gbcs.verify(fs.readFileSync(command, 'utf8'), keys, { acb: TCOS });
  // The ACB's key is named the ACB's by its certificate: it is no other party's.
  assert.equal(wrong.mac.status, 'no-key', JSON.stringify(wrong));
  assert.equal(wrong.authenticated, false);
  // A key nothing names that does not verify is no failure of the signer's key.
  assert.equal(right.signature.status, 'no-key', JSON.stringify(right));
  const unnamed = await gbcs.verify(fs.readFileSync(command, 'utf8'), { acb: keys.acb }, { acb: ACB });
  assert.equal(unnamed.signature.status, 'no-key', JSON.stringify(unnamed));
  assert.deepEqual(unnamed.signature.tried, ['acb']);
});
