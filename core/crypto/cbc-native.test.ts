/** Native CBC-stream decryption with per-chain fix-ups equals the independent noble path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLuksCipher } from './cipher-spec.js';
import { createSectorCipher, createLegacyAesCipher } from './sector-cipher.js';
import { nobleProvider } from './provider-noble.js';
import { randomBytes } from './random.js';

test('CBC decryption through one native stream matches noble, across calls and offsets', () => {
  for (const [mode, keyBytes] of [
    ['cbc-essiv:sha256', 32],
    ['cbc-plain64', 16],
    ['cbc-plain', 32],
    ['cbc-plain64be', 24],
  ] as const) {
    const spec = parseLuksCipher('aes', mode, keyBytes);
    const key = randomBytes(keyBytes);
    const native = createSectorCipher(spec, key);
    const noble = createSectorCipher(spec, key, 512, nobleProvider);
    try {
      for (const [units, iv, offset] of [
        [1, 0, 0],
        [7, 5, 3],
        [300, 2 ** 32 + 5, 1],
        [2, 99, 0],
      ] as const) {
        const ct = randomBytes(units * 512 + offset).subarray(offset);
        const a = ct.slice();
        const b = ct.slice();
        native.decrypt(a, iv);
        noble.decrypt(b, iv);
        assert.deepEqual(a, b, `${mode} units=${units} iv=${iv}`);
        native.encrypt(a, iv);
        assert.deepEqual(a, ct, 'round trip');
      }
    } finally {
      native.dispose();
      noble.dispose();
    }
  }
});

test('legacy AES decryption (native stream) matches noble', () => {
  const pass = new TextEncoder().encode('abc123');
  const native = createLegacyAesCipher(pass);
  const noble = createLegacyAesCipher(pass, nobleProvider);
  const ct = randomBytes(64 * 1024);
  const a = ct.slice();
  const b = ct.slice();
  native.decrypt(a, 2048);
  noble.decrypt(b, 2048);
  assert.deepEqual(a, b);
  native.dispose();
  noble.dispose();
});
