/**
 * Issue #16 interop, both directions, against the real tools: `ssh-keygen -Y sign/verify`
 * (SSHSIG, ed25519 and RSA) and `age`/`age-keygen` (X25519, ssh-ed25519 and ssh-rsa
 * recipients), plus OpenSSH private keys written by ssh-keygen (plain and encrypted).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVaultError } from '../../api/errors.js';
import { peerTestOptions, run, runOk, runWithInput, scratchDir } from '../../testing/peers.js';
import { parsePublicKeyLine, sshFingerprint } from './ssh-public-key.js';
import { parseOpenSshPrivateKey } from './ssh-private-key.js';
import { BUNDLE_NAMESPACE, sshsigSign, sshsigVerify } from './sshsig.js';
import { parseAllowedSigners, trustedPrincipals } from './allowed-signers.js';
import { parseIdentityFile, parseRecipients, sealSecret, unsealSecret } from './age-seal.js';

const opts = peerTestOptions('ssh-keygen', 'age', 'age-keygen');
const enc = (s: string) => new TextEncoder().encode(s);

describe('SSH keys, SSHSIG and age against ssh-keygen and age', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const keys: Record<string, string> = {};
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-keys-'));
    for (const [name, args] of [
      ['ed', ['-t', 'ed25519', '-N', '']],
      ['rsa', ['-t', 'rsa', '-b', '2048', '-N', '']],
      ['edpw', ['-t', 'ed25519', '-N', 'key pass']],
      ['rsapw', ['-t', 'rsa', '-b', '2048', '-N', 'key pass']],
      ['other', ['-t', 'ed25519', '-N', '']],
    ] as const) {
      keys[name] = join(dir, name);
      await runOk('ssh-keygen', ['-q', ...args, '-C', `${name}@test`, '-f', keys[name]!]);
    }
    keys.age = join(dir, 'age.key');
    await runOk('age-keygen', ['-o', keys.age]);
  });
  after(() => cleanup());

  const priv = async (name: string, pw?: string) =>
    parseOpenSshPrivateKey(
      await readFile(keys[name]!, 'utf8'),
      pw === undefined ? undefined : enc(pw)
    );
  const pub = async (name: string) =>
    parsePublicKeyLine(await readFile(`${keys[name]}.pub`, 'utf8'))!;

  test('private keys from ssh-keygen parse, plain and encrypted (bcrypt + aes256-ctr)', async () => {
    for (const name of ['ed', 'rsa', 'edpw', 'rsapw']) {
      const pw = name.endsWith('pw') ? 'key pass' : undefined;
      const k = await priv(name, pw);
      const p = await pub(name);
      assert.equal(sshFingerprint(k.publicKey), sshFingerprint(p));
      const l = await runOk('ssh-keygen', ['-l', '-f', `${keys[name]}.pub`]);
      assert.ok(l.includes(sshFingerprint(p)), `${name}: ${l}`);
    }
    await assert.rejects(priv('edpw'), (e) => isVaultError(e, 'NEEDS_PASSPHRASE'));
    await assert.rejects(priv('edpw', 'wrong'), (e) => isVaultError(e, 'WRONG_PASSPHRASE'));
    await assert.rejects(priv('rsapw', 'wrong'), (e) => isVaultError(e, 'WRONG_PASSPHRASE'));
  });

  for (const name of ['ed', 'rsa'] as const) {
    test(`SSHSIG ${name}: ours verifies with ssh-keygen -Y verify, and theirs with ours`, async () => {
      const msg = enc('{"kind":"image-vault-bundle"}\n');
      const k = await priv(name);
      const allowed = join(dir, `allowed-${name}`);
      const pubLine = (await readFile(`${keys[name]}.pub`, 'utf8')).trim();
      await writeFile(allowed, `alice@example.org namespaces="${BUNDLE_NAMESPACE}" ${pubLine}\n`);
      // Ours → ssh-keygen.
      const sigFile = join(dir, `ours-${name}.sig`);
      await writeFile(sigFile, sshsigSign(k, msg, BUNDLE_NAMESPACE));
      const args = [
        '-Y',
        'verify',
        '-f',
        allowed,
        '-I',
        'alice@example.org',
        '-n',
        BUNDLE_NAMESPACE,
        '-s',
        sigFile,
      ];
      const ok = runWithInput('ssh-keygen', args, msg);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /Good "image-vault-bundle" signature for alice@example.org/);
      const bad = runWithInput('ssh-keygen', args, enc('{"kind":"image-vault-bundlE"}\n'));
      assert.notEqual(bad.code, 0, 'ssh-keygen must refuse a changed message');
      // ssh-keygen → ours.
      const msgFile = join(dir, `msg-${name}`);
      await writeFile(msgFile, msg);
      await runOk('ssh-keygen', ['-Y', 'sign', '-f', keys[name]!, '-n', BUNDLE_NAMESPACE, msgFile]);
      const theirs = await readFile(`${msgFile}.sig`, 'utf8');
      const v = sshsigVerify(theirs, msg, BUNDLE_NAMESPACE);
      assert.equal(v.fingerprint, sshFingerprint(await pub(name)));
      const signers = parseAllowedSigners(await readFile(allowed, 'utf8'));
      assert.deepEqual(trustedPrincipals(signers, v.publicKey, BUNDLE_NAMESPACE), [
        'alice@example.org',
      ]);
      assert.deepEqual(trustedPrincipals(signers, v.publicKey, 'file'), []);
      // Refusals: another message, another namespace, a flipped signature byte.
      assert.throws(
        () => sshsigVerify(theirs, enc('other'), BUNDLE_NAMESPACE),
        (e) => isVaultError(e, 'BAD_SIGNATURE')
      );
      assert.throws(
        () => sshsigVerify(theirs, msg, 'file'),
        (e) => isVaultError(e, 'BAD_SIGNATURE')
      );
      const raw = Buffer.from(theirs.split('\n').slice(1, -2).join(''), 'base64');
      raw[raw.length - 5]! ^= 1;
      const flipped = `-----BEGIN SSH SIGNATURE-----\n${raw.toString('base64')}\n-----END SSH SIGNATURE-----\n`;
      assert.throws(
        () => sshsigVerify(flipped, msg, BUNDLE_NAMESPACE),
        (e) => isVaultError(e, 'BAD_SIGNATURE')
      );
    });
  }

  test('age: what we seal to age1/ssh-ed25519/ssh-rsa opens with age -d -i', async () => {
    const ageRecipient = (await runOk('age-keygen', ['-y', keys.age!])).trim();
    const recipients = parseRecipients(
      [
        ageRecipient,
        await readFile(`${keys.ed}.pub`, 'utf8'),
        await readFile(`${keys.rsa}.pub`, 'utf8'),
      ].join('\n')
    );
    assert.deepEqual(
      recipients.map((r) => r.type),
      ['X25519', 'ssh-ed25519', 'ssh-rsa']
    );
    const secret = enc('sealed-passphrase-Xy7');
    const sealedFile = join(dir, 'secret.age');
    await writeFile(sealedFile, await sealSecret(secret, recipients));
    for (const id of [keys.age!, keys.ed!, keys.rsa!]) {
      assert.equal(await runOk('age', ['-d', '-i', id, sealedFile]), 'sealed-passphrase-Xy7', id);
    }
    const other = await run('age', ['-d', '-i', keys.other!, sealedFile]);
    assert.notEqual(other.code, 0, 'a key that is not a recipient must not open it');
  });

  test('age: what age -r / -R seals opens here; a wrong identity is WRONG_IDENTITY', async () => {
    const plainFile = join(dir, 'plain');
    await writeFile(plainFile, 'from-age\n');
    const ageRecipient = (await runOk('age-keygen', ['-y', keys.age!])).trim();
    const cases: [string, string[], string, string | undefined][] = [
      ['x25519', ['-r', ageRecipient], keys.age!, undefined],
      ['ed25519', ['-R', `${keys.ed}.pub`], keys.ed!, undefined],
      ['rsa', ['-R', `${keys.rsa}.pub`], keys.rsa!, undefined],
      ['ed25519 encrypted key', ['-R', `${keys.edpw}.pub`], keys.edpw!, 'key pass'],
    ];
    for (const [label, args, idFile, pw] of cases) {
      const out = join(dir, `theirs-${label.replace(/ /g, '-')}.age`);
      await runOk('age', ['-e', ...args, '-o', out, plainFile]);
      const ids = parseIdentityFile(
        await readFile(idFile, 'utf8'),
        pw === undefined ? undefined : enc(pw)
      );
      const got = await unsealSecret(await readFile(out), ids);
      assert.equal(new TextDecoder().decode(got), 'from-age\n', label);
      const wrong = parseIdentityFile(await readFile(keys.other!, 'utf8'));
      await assert.rejects(
        unsealSecret(await readFile(out), wrong),
        (e) => isVaultError(e, 'WRONG_IDENTITY'),
        label
      );
    }
  });
});
