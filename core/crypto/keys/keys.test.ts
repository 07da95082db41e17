/**
 * Unit tests for the key formats (no peers): allowed-signers options and patterns, and
 * hostile or truncated key and signature input giving typed errors, never a crash.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { isVaultError } from '../../api/errors.js';
import { matchPatternList, parseAllowedSigners, trustedPrincipals } from './allowed-signers.js';
import {
  ed25519Blob,
  formatPublicKey,
  parsePublicKeyBlob,
  parsePublicKeyLine,
} from './ssh-public-key.js';
import { BUNDLE_NAMESPACE, sshsigSign, sshsigVerify } from './sshsig.js';
import { parseRecipients } from './age-seal.js';

const seed = new Uint8Array(32).fill(7);
const pub = ed25519.getPublicKey(seed);
const key = parsePublicKeyBlob(ed25519Blob(pub), 'me@test');
const line = formatPublicKey(key);

describe('allowed signers', () => {
  test('namespaces, validity and cert-authority decide trust', () => {
    const signers = parseAllowedSigners(
      [
        '# comment',
        `alice@x namespaces="image-vault-bundle,git" ${line}`,
        `bob@x namespaces="file" ${line}`,
        `old@x valid-before="20000101" ${line}`,
        `ca@x cert-authority ${line}`,
        `"carol@x,dave@x" ${line}`,
      ].join('\n')
    );
    assert.deepEqual(trustedPrincipals(signers, key, BUNDLE_NAMESPACE), [
      'alice@x',
      'carol@x',
      'dave@x',
    ]);
  });
  test('bad lines are refused with their number', () => {
    assert.throws(() => parseAllowedSigners(`a@x bogus-option ${line}`), /line 1/);
    assert.throws(
      () => parseAllowedSigners('a@x'),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
  });
  test('patterns: wildcards and negation', () => {
    assert.equal(matchPatternList('image-vault-bundle', ['image-*']), true);
    assert.equal(matchPatternList('image-vault-bundle', ['*', '!image-vault-bundle']), false);
    assert.equal(matchPatternList('file', ['git']), false);
  });
});

describe('hostile input', () => {
  test('truncated and malformed keys give typed errors', () => {
    const blob = ed25519Blob(pub);
    for (let n = 0; n < blob.length; n++) {
      assert.throws(
        () => parsePublicKeyBlob(blob.subarray(0, n)),
        (e) => isVaultError(e)
      );
    }
    assert.throws(
      () => parsePublicKeyLine('ssh-ed25519 !!!'),
      (e) => isVaultError(e, 'CORRUPT')
    );
    assert.throws(
      () => parsePublicKeyLine('ecdsa-sha2-nistp256 AAAA'),
      (e) => isVaultError(e, 'UNSUPPORTED_FEATURE')
    );
    assert.throws(
      () => parseRecipients('age1notvalid'),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
    assert.throws(
      () => parseRecipients('# only a comment'),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
  });
  test('every truncation or byte flip of a signature is BAD_SIGNATURE', () => {
    const msg = new TextEncoder().encode('manifest');
    const k = { type: 'ssh-ed25519' as const, publicKey: key, seed };
    const armored = sshsigSign(k, msg, BUNDLE_NAMESPACE);
    assert.equal(sshsigVerify(armored, msg, BUNDLE_NAMESPACE).publicKey.type, 'ssh-ed25519');
    const raw = Buffer.from(armored.split('\n').slice(1, -2).join(''), 'base64');
    const wrap = (b: Buffer) =>
      `-----BEGIN SSH SIGNATURE-----\n${b.toString('base64')}\n-----END SSH SIGNATURE-----\n`;
    for (let i = 0; i < raw.length; i += 3) {
      const flipped = Buffer.from(raw);
      flipped[i]! ^= 0x40;
      assert.throws(
        () => sshsigVerify(wrap(flipped), msg, BUNDLE_NAMESPACE),
        (e) => isVaultError(e, 'BAD_SIGNATURE'),
        `byte ${i}`
      );
      assert.throws(
        () => sshsigVerify(wrap(raw.subarray(0, i)), msg, BUNDLE_NAMESPACE),
        (e) => isVaultError(e, 'BAD_SIGNATURE')
      );
    }
  });
});
