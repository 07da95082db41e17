/**
 * Issue #16 through the CLI, judged by the real tools: a bundle sealed with `--to` and
 * signed with `--sign` is one tar file whose secret `age -d` opens and whose manifest
 * `ssh-keygen -Y verify` accepts, the opened secret opens the image in `qemu-img`; import
 * with `--identity` and `--allowed-signers` re-keys to a fresh secret sealed to the
 * recipient; bundles sealed by `age -R` and signed by `ssh-keygen -Y sign` import; a wrong
 * identity, an untrusted or missing signature, and a flipped byte in the image, the
 * manifest, the sealed secret or the signature are refused with nothing left behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import {
  passphraseFile,
  peerTestOptions,
  run,
  runOk,
  runWithInput,
  scratchDir,
} from '../testing/peers.js';
import { tarEntries } from '../testing/tar-entries.js';

const opts = peerTestOptions('qemu-img', 'age', 'age-keygen', 'ssh-keygen');
const FAST = ['-o', 'iterations=1000'];

describe('sealed and signed bundles (age, SSHSIG)', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let src: string;
  let srcPw: string;
  const key: Record<string, string> = {};
  let allowed: string;
  let tarFile: string;

  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-sealed-'));
    await chmod(dir, 0o755);
    srcPw = await passphraseFile(dir, 'src.pw', 'sender-own-pass-7');
    const raw = join(dir, 'data.raw');
    const data = Buffer.alloc(8 << 20);
    data.set(patternBytes(2 << 20, 5), 1 << 20);
    await writeFile(raw, data);
    src = join(dir, 'vm.qcow2');
    const r = await cli(
      'convert',
      '-O',
      'qcow2',
      '--encrypt',
      ...FAST,
      '--passphrase-file',
      srcPw,
      raw,
      src
    );
    assert.equal(r.code, 0, r.stderr);
    for (const [name, type] of [
      ['recipient', 'ed25519'],
      ['rsa', 'rsa'],
      ['sender', 'ed25519'],
      ['stranger', 'ed25519'],
    ] as const) {
      key[name] = join(dir, name);
      await runOk('ssh-keygen', [
        '-q',
        '-t',
        type,
        ...(type === 'rsa' ? ['-b', '2048'] : []),
        '-N',
        '',
        '-C',
        `${name}@test`,
        '-f',
        key[name]!,
      ]);
    }
    key.age = join(dir, 'age.key');
    await runOk('age-keygen', ['-o', key.age]);
    allowed = join(dir, 'allowed_signers');
    await writeFile(
      allowed,
      `sender@test ${(await readFile(`${key.sender}.pub`, 'utf8')).trim()}\n`
    );
    tarFile = join(dir, 'handover.tar');
  });
  after(() => cleanup());

  /** Compares an image against the source with qemu-img, each with its passphrase file. */
  async function sameAsSource(image: string, pwFile: string) {
    await runOk('qemu-img', [
      'compare',
      '--object',
      `secret,id=a,file=${srcPw}`,
      '--object',
      `secret,id=b,file=${pwFile}`,
      '--image-opts',
      `driver=qcow2,file.filename=${src},encrypt.key-secret=a`,
      `driver=qcow2,file.filename=${image},encrypt.key-secret=b`,
    ]);
  }
  /** Files in `dir` whose names start with `prefix` (what a refused import must not leave). */
  const leftovers = async (prefix: string) =>
    (await readdir(dir)).filter((n) => n.startsWith(prefix));

  test('export --to (ssh-ed25519 + age1) --sign --tar: age, ssh-keygen and qemu-img accept it', async () => {
    const ageRecipient = (await runOk('age-keygen', ['-y', key.age!])).trim();
    const r = await cli(
      'bundle',
      'export',
      '--passphrase-file',
      srcPw,
      '--to',
      `${key.recipient}.pub`,
      '--to',
      ageRecipient,
      '--sign',
      key.sender!,
      ...FAST,
      src,
      tarFile
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Sealed to: SHA256:\S+, age1/);
    assert.match(r.stdout, /Signed by SHA256:/);
    assert.doesNotMatch(r.stdout, /passphrase \(shown once/);
    const names = tarEntries(await readFile(tarFile)).map((e) => e.name);
    assert.deepEqual(names, [
      'handover/manifest.json',
      'handover/manifest.json.sig',
      'handover/secret.age',
      'handover/secret.xml',
      'handover/disk.xml',
      'handover/README.txt',
      'handover/vm.qcow2',
    ]);
    const out = join(dir, 'extracted');
    await mkdir(out);
    await runOk('tar', ['-xf', tarFile, '-C', out]); // the system tar as an oracle only
    const folder = join(out, 'handover');
    const v = runWithInput(
      'ssh-keygen',
      [
        '-Y',
        'verify',
        '-f',
        allowed,
        '-I',
        'sender@test',
        '-n',
        'image-vault-bundle',
        '-s',
        join(folder, 'manifest.json.sig'),
      ],
      await readFile(join(folder, 'manifest.json'))
    );
    assert.equal(v.code, 0, v.stderr);
    for (const id of [key.recipient!, key.age!]) {
      const pw = join(dir, 'opened.pw');
      await runOk('age', ['-d', '-i', id, '-o', pw, join(folder, 'secret.age')]);
      await sameAsSource(join(folder, 'vm.qcow2'), pw);
    }
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
    const sha = createHash('sha256')
      .update(await readFile(join(folder, 'vm.qcow2')))
      .digest('hex');
    assert.equal(manifest.sha256, sha);
    assert.equal(
      manifest.sealed.sha256,
      createHash('sha256')
        .update(await readFile(join(folder, 'secret.age')))
        .digest('hex')
    );
    assert.equal(manifest.sealed.recipients.length, 2);
  });

  test('import --identity --allowed-signers: re-keyed to a fresh secret sealed to the recipient', async () => {
    const target = join(dir, 'mine.qcow2');
    const r = await cli(
      'bundle',
      'import',
      '--identity',
      key.recipient!,
      '--allowed-signers',
      allowed,
      ...FAST,
      tarFile,
      target
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Signed by ssh-ed25519 SHA256:\S+: trusted as sender@test/);
    assert.match(r.stdout, /✓ rekey: Re-keyed to a fresh random secret/);
    const mine = join(dir, 'mine.pw');
    await runOk('age', ['-d', '-i', key.recipient!, '-o', mine, `${target}.secret.age`]);
    await sameAsSource(target, mine);
    const handed = join(dir, 'handed.pw');
    await runOk('age', [
      '-d',
      '-i',
      key.recipient!,
      '-o',
      handed,
      join(dir, 'extracted', 'handover', 'secret.age'),
    ]);
    assert.equal(
      (await cli('keyslot', 'test', target, '--passphrase-file', handed)).code,
      4,
      "the sender's secret no longer opens it"
    );
    // The folder form imports the same way, here with the age identity and a passphrase of ours.
    const own = await passphraseFile(dir, 'own.pw', 'recipient typed this');
    const t2 = join(dir, 'from-folder.qcow2');
    const r2 = await cli(
      'bundle',
      'import',
      '--identity',
      key.age!,
      '--new-passphrase-file',
      own,
      ...FAST,
      join(dir, 'extracted', 'handover'),
      t2
    );
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /not checked against an allowed-signers file/);
    await sameAsSource(t2, own);
  });

  test('a wrong identity, an untrusted signer and an unsigned bundle are refused before writing', async () => {
    let r = await cli(
      'bundle',
      'import',
      '--identity',
      key.stranger!,
      tarFile,
      join(dir, 'w1.qcow2')
    );
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /WRONG_IDENTITY/);
    const strangers = join(dir, 'allowed_strangers');
    await writeFile(
      strangers,
      `x@test ${(await readFile(`${key.stranger}.pub`, 'utf8')).trim()}\n`
    );
    r = await cli(
      'bundle',
      'import',
      '--identity',
      key.recipient!,
      '--allowed-signers',
      strangers,
      tarFile,
      join(dir, 'w2.qcow2')
    );
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /BAD_SIGNATURE.*not trust|does not trust.*BAD_SIGNATURE/);
    const unsigned = join(dir, 'unsigned.tar');
    r = await cli(
      'bundle',
      'export',
      '--passphrase-file',
      srcPw,
      '--to',
      `${key.recipient}.pub`,
      ...FAST,
      src,
      unsigned
    );
    assert.equal(r.code, 0, r.stderr);
    r = await cli(
      'bundle',
      'import',
      '--identity',
      key.recipient!,
      unsigned,
      join(dir, 'w3.qcow2')
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Not signed/);
    r = await cli(
      'bundle',
      'import',
      '--identity',
      key.recipient!,
      '--allowed-signers',
      allowed,
      unsigned,
      join(dir, 'w4.qcow2')
    );
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /not signed.*BAD_SIGNATURE/);
    for (const p of ['w1', 'w2', 'w4']) assert.deepEqual(await leftovers(p), [], p);
  });

  for (const part of ['vm.qcow2', 'manifest.json', 'secret.age', 'manifest.json.sig'] as const) {
    for (const where of ['first', 'last'] as const) {
      test(`a flipped byte in ${part} (${where}) is refused with BAD_SIGNATURE, nothing left`, async () => {
        const bytes = Buffer.from(await readFile(tarFile));
        const e = tarEntries(bytes).find((x) => x.name === `handover/${part}`)!;
        // The signature's armor lines are text: flip inside the base64 body.
        const at =
          part === 'manifest.json.sig'
            ? e.offset + (where === 'first' ? 40 : e.size - 40)
            : e.offset + (where === 'first' ? 0 : e.size - 1);
        bytes[at] =
          part === 'manifest.json.sig' ? (bytes[at] === 0x41 ? 0x42 : 0x41) : bytes[at]! ^ 0x01;
        const bad = join(dir, `tampered-${part}-${where}.tar`);
        await writeFile(bad, bytes);
        const target = join(dir, `t-${part}-${where}.qcow2`);
        for (const extra of [['--allowed-signers', allowed], []]) {
          const r = await cli(
            'bundle',
            'import',
            '--identity',
            key.recipient!,
            ...extra,
            ...FAST,
            bad,
            target
          );
          assert.equal(r.code, 6, `${part}: ${r.stderr}`);
          assert.match(r.stderr, /BAD_SIGNATURE/);
          assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
          assert.deepEqual(await leftovers(`t-${part}-${where}`), []);
        }
      });
    }
  }

  test('a truncated bundle file is refused with nothing left', async () => {
    const bytes = await readFile(tarFile);
    const cut = join(dir, 'cut.tar');
    await writeFile(cut, bytes.subarray(0, bytes.length - 200_000));
    const r = await cli(
      'bundle',
      'import',
      '--identity',
      key.recipient!,
      cut,
      join(dir, 'cut.qcow2')
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /TRUNCATED|BAD_SIGNATURE/);
    assert.deepEqual(await leftovers('cut.qcow2'), []);
  });

  test('a secret sealed by age -R (RSA) and a manifest signed by ssh-keygen -Y sign import', async () => {
    const folder = join(dir, 'peer-made');
    await cp(join(dir, 'extracted', 'handover'), folder, { recursive: true });
    const handed = join(dir, 'handed2.pw');
    await runOk('age', ['-d', '-i', key.recipient!, '-o', handed, join(folder, 'secret.age')]);
    await runOk('age', [
      '-e',
      '-R',
      `${key.rsa}.pub`,
      '-o',
      join(folder, 'secret.age.new'),
      handed,
    ]);
    await cp(join(folder, 'secret.age.new'), join(folder, 'secret.age'));
    const manifestPath = join(folder, 'manifest.json');
    const m = JSON.parse(await readFile(manifestPath, 'utf8'));
    m.sealed.sha256 = createHash('sha256')
      .update(await readFile(join(folder, 'secret.age')))
      .digest('hex');
    await writeFile(manifestPath, JSON.stringify(m, null, 2) + '\n');
    await runOk('rm', ['-f', join(folder, 'manifest.json.sig'), join(folder, 'secret.age.new')]);
    await runOk('ssh-keygen', [
      '-Y',
      'sign',
      '-f',
      key.sender!,
      '-n',
      'image-vault-bundle',
      manifestPath,
    ]);
    const target = join(dir, 'peer-made.qcow2');
    const r = await cli(
      'bundle',
      'import',
      '--identity',
      key.rsa!,
      '--allowed-signers',
      allowed,
      ...FAST,
      folder,
      target
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /trusted as sender@test/);
    const mine = join(dir, 'mine-rsa.pw');
    await runOk('age', ['-d', '-i', key.rsa!, '-o', mine, `${target}.secret.age`]);
    await sameAsSource(target, mine);
    const again = await run('age', ['-d', '-i', key.recipient!, `${target}.secret.age`]);
    assert.notEqual(again.code, 0, 'the new secret is sealed to the importing key only');
  });
});
