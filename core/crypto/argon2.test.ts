/**
 * Argon2: RFC 9106 §5 vectors on the reference (@noble/hashes), libargon2's own test vectors
 * on both implementations, and the WebAssembly build agreeing with noble on random inputs.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { argon2d, argon2i, argon2id } from '@noble/hashes/argon2.js';
import { isVaultError } from '../api/errors.js';
import { hex } from '../testing/bytes.js';
import { argon2Noble, argon2Wasm, type Argon2Type } from './argon2.js';

const te = (s: string) => new TextEncoder().encode(s);

describe('Argon2 (RFC 9106 §5 vectors, with secret and associated data, on noble)', () => {
  // password 32 × 0x01, salt 16 × 0x02, secret 8 × 0x03, associated data 12 × 0x04,
  // t = 3, m = 32 KiB, p = 4, tag 32 bytes, version 0x13.
  const opts = {
    t: 3,
    m: 32,
    p: 4,
    dkLen: 32,
    version: 0x13,
    key: new Uint8Array(8).fill(3),
    personalization: new Uint8Array(12).fill(4),
  };
  const pw = new Uint8Array(32).fill(1);
  const salt = new Uint8Array(16).fill(2);
  const cases: [string, typeof argon2id, string][] = [
    ['argon2d', argon2d, '512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb'],
    ['argon2i', argon2i, 'c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8'],
    ['argon2id', argon2id, '0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659'],
  ];
  for (const [name, f, tag] of cases) {
    it(name, () => assert.equal(hex(f(pw, salt, opts)), tag));
  }
});

describe('Argon2 WebAssembly against noble', () => {
  // libargon2's own test vectors (its src/test.c): "password", "somesalt", t = 2, m = 64 MiB,
  // p = 1, 32-byte tag, version 0x13.
  const p = { time: 2, memoryKiB: 65536, parallel: 1 };
  const vectors: [Argon2Type, string][] = [
    ['argon2i', 'c1628832147d9720c5bd1cfd61367078729f6dfb6f8fea9ff98158e0d7816ed0'],
    ['argon2id', '09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7'],
  ];
  for (const [type, tag] of vectors) {
    it(`${type}: libargon2 test vector, both implementations`, () => {
      assert.equal(hex(argon2Wasm(type, te('password'), te('somesalt'), p, 32)), tag);
      assert.equal(hex(argon2Noble(type, te('password'), te('somesalt'), p, 32)), tag);
    });
  }

  it('agrees with noble on random small inputs (all three types, 1–4 lanes)', () => {
    const types: Argon2Type[] = ['argon2i', 'argon2id', 'argon2d'];
    for (let i = 0; i < 24; i++) {
      const type = types[i % 3]!;
      const parallel = 1 + (i % 4);
      const params = { time: randomInt(1, 4), memoryKiB: randomInt(8 * parallel, 300), parallel };
      const password = randomBytes(randomInt(0, 70));
      const salt = randomBytes(randomInt(8, 65));
      const len = randomInt(4, 100);
      const what = `${type} ${JSON.stringify(params)} pw ${password.length} salt ${salt.length} len ${len}`;
      assert.equal(
        hex(argon2Wasm(type, password, salt, params, len)),
        hex(argon2Noble(type, password, salt, params, len)),
        what
      );
    }
  });

  it('memory costs that do not divide into 4 × lanes blocks (as cryptsetup writes them)', () => {
    const params = { time: 1, memoryKiB: 1021, parallel: 2 };
    const a = argon2Wasm('argon2id', te('pw'), new Uint8Array(32).fill(9), params, 64);
    assert.deepEqual(a, argon2Noble('argon2id', te('pw'), new Uint8Array(32).fill(9), params, 64));
  });

  it('salts under 8 bytes are refused with a typed error (RFC 9106 §3.1)', () => {
    const params = { time: 1, memoryKiB: 64, parallel: 1 };
    for (const f of [argon2Wasm, argon2Noble]) {
      assert.throws(
        () => f('argon2id', te('pw'), te('salt'), params, 32),
        (e: unknown) => isVaultError(e, 'UNSUPPORTED_FEATURE')
      );
    }
  });

  it('refuses out-of-range costs before any work', () => {
    for (const bad of [
      { time: 0, memoryKiB: 64, parallel: 1 },
      { time: 1, memoryKiB: 15, parallel: 2 },
      { time: 1, memoryKiB: 64, parallel: 17 },
      { time: 1, memoryKiB: 8 * 1024 * 1024, parallel: 1 },
    ]) {
      assert.throws(
        () => argon2Wasm('argon2id', te('x'), te('saltsalt'), bad, 32),
        (e: unknown) => isVaultError(e, 'UNSUPPORTED_FEATURE')
      );
    }
    assert.throws(
      () => argon2Wasm('argon2id', te('x'), te('saltsalt'), { ...p, memoryKiB: 64 }, 2),
      (e: unknown) => isVaultError(e, 'INVALID_ARGUMENT')
    );
  });
});
