/** IV generators against a BigInt reference, on aligned and unaligned output buffers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseLuksCipher } from './cipher-spec.js';
import { createIvGenerator } from './ivgen.js';
import { nodeProvider } from './provider-node.js';

/** The IV for `sector` as cryptsetup defines it (docs/spec/luks1.md §4). */
function reference(mode: string, sector: bigint): Uint8Array {
  const iv = new Uint8Array(16);
  const v = new DataView(iv.buffer);
  if (mode === 'plain') v.setUint32(0, Number(sector & 0xffffffffn), true);
  if (mode === 'plain64') v.setBigUint64(0, sector, true);
  if (mode === 'plain64be') v.setBigUint64(8, sector, false);
  return iv;
}

describe('IV generators', () => {
  for (const mode of ['plain', 'plain64', 'plain64be']) {
    for (const shift of [0, 1, 4]) {
      it(`${mode}, output at byte offset ${shift}`, () => {
        const gen = createIvGenerator(
          parseLuksCipher('aes', `xts-${mode}`, 64),
          new Uint8Array(64),
          nodeProvider
        );
        for (const [first, step] of [
          [0, 1],
          [2 ** 32 - 3, 1],
          [2 ** 40 + 5, 8],
          [Number.MAX_SAFE_INTEGER - 100, 1],
        ] as const) {
          const count = 7;
          const out = new Uint8Array(shift + count * 16).fill(0xaa).subarray(shift);
          gen.fill(out, first, count, step);
          for (let k = 0; k < count; k++) {
            const want = reference(mode, BigInt(first) + BigInt(k * step));
            assert.deepEqual(
              out.subarray(16 * k, 16 * k + 16),
              want,
              `sector ${first}+${k * step}`
            );
          }
        }
        gen.dispose();
      });
    }
  }
});
