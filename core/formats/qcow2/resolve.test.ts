/** Unit tests of the L2 walk's helpers (the walk itself: map.interop.test.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMPRESSED_HI, decodeCompressed } from './entries.js';
import { Lru } from './lru.js';
import { rng } from './map-reference.js';
import { compressedOffset } from './resolve.js';

describe('compressedOffset', () => {
  it('equals decodeCompressed(...).offset for every cluster size and descriptor', () => {
    const r = rng(42);
    for (let cb = 9; cb <= 21; cb++) {
      const extremes: [number, number][] = [
        [COMPRESSED_HI, 0],
        [0x7fffffff, 0xffffffff],
        [COMPRESSED_HI | ((1 << (30 - (cb - 8))) - 1), 0xffffffff],
      ];
      for (const [hi, lo] of extremes) {
        assert.equal(compressedOffset(hi, lo, cb), decodeCompressed(hi, lo, cb).offset);
      }
      for (let i = 0; i < 2000; i++) {
        const hi = (COMPRESSED_HI | (r(0x10000) * 0x4000 + r(0x4000))) >>> 0;
        const lo = (r(0x10000) * 0x10000 + r(0x10000)) >>> 0;
        assert.equal(compressedOffset(hi, lo, cb), decodeCompressed(hi, lo, cb).offset, `${cb}`);
      }
    }
  });
});

describe('Lru', () => {
  it('behaves like a plain recency list (gets, sets, evictions, iteration order)', () => {
    for (const capacity of [0, 1, 2, 4]) {
      const r = rng(capacity + 1);
      const evicted: [number, string][] = [];
      const lru = new Lru<number, string>(capacity, (k, v) => evicted.push([k, v]));
      let model: [number, string][] = []; // oldest first
      const modelEvicted: [number, string][] = [];
      for (let i = 0; i < 3000; i++) {
        const key = r(7);
        if (r(3) === 0) {
          const value = `v${i}`;
          const got = lru.set(key, value);
          model = [...model.filter(([k]) => k !== key), [key, value]];
          let expected: [number, string] | undefined;
          if (model.length > capacity) {
            expected = model.shift();
            modelEvicted.push(expected!);
          }
          assert.deepEqual(got, expected);
        } else if (r(50) === 0) {
          lru.clear();
          model = [];
        } else {
          const hit = model.find(([k]) => k === key);
          if (hit) model = [...model.filter(([k]) => k !== key), hit];
          assert.equal(lru.get(key), hit?.[1]);
        }
        assert.deepEqual([...lru.entries()], model);
      }
      assert.deepEqual(evicted, modelEvicted);
    }
  });
});
