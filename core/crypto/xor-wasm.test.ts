/**
 * The WebAssembly SIMD XOR passes (wasm/xor-kernel.ts) against the pure-JS passes (xts.ts,
 * cbc.ts) on random data: XTS (IEEE 1619 §5.2) with 512- and 4096-byte units, IV sectors
 * above 2^32 and unaligned views, and CBC decryption (docs/spec/luks1.md §4, docs/spec/legacy-aes.md §1).
 */
import assert from 'node:assert/strict';
import { randomBytes as nodeRandom } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseLuksCipher, type CipherSpec } from './cipher-spec.js';
import { nobleProvider } from './provider-noble.js';
import { nodeProvider } from './provider-node.js';
import { createLegacyAesCipher, createSectorCipher, createUnitCipher } from './sector-cipher.js';
import { compileXorModule, wasmXorAvailable, XorKernel, type WasmApi } from './wasm/xor-kernel.js';

const rnd = (n: number) => new Uint8Array(nodeRandom(n));

/** A copy of `src` as a view at byte offset `shift` into a larger buffer. */
function shifted(src: Uint8Array, shift: number, shared = false): Uint8Array {
  const n = src.length + shift;
  const buf = shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n);
  const out = new Uint8Array(buf, shift, src.length);
  out.set(src);
  return out;
}

function pair(spec: CipherSpec, unit: number) {
  const key = rnd(spec.keyBytes);
  return {
    wasm: createUnitCipher(spec, key, unit, nodeProvider, { wasm: true }),
    js: createUnitCipher(spec, key, unit, nodeProvider, { wasm: false }),
    jsNoble: createUnitCipher(spec, key, unit, nobleProvider, { wasm: false }),
  };
}

/** Encrypts and decrypts `len` random bytes both ways and compares the results. */
function compare(spec: CipherSpec, unit: number, len: number, iv: number, shift: number): void {
  const { wasm, js } = pair(spec, unit);
  try {
    const plain = rnd(len);
    const a = shifted(plain, shift, shift % 2 === 1);
    const b = plain.slice();
    wasm.encrypt(a, iv);
    js.encrypt(b, iv);
    assert.deepEqual(Uint8Array.from(a), b, `encrypt ${len}@${iv}+${shift}`);
    assert.notDeepEqual(b, plain);
    const c = shifted(b, shift);
    wasm.decrypt(c, iv);
    js.decrypt(b, iv);
    assert.deepEqual(b, plain);
    assert.deepEqual(Uint8Array.from(c), plain, `decrypt ${len}@${iv}+${shift}`);
  } finally {
    wasm.dispose();
    js.dispose();
  }
}

describe('WebAssembly SIMD XOR kernels', () => {
  it('are available on this runtime', () => {
    assert.equal(wasmXorAvailable(), true);
    assert.ok(XorKernel.create(65536));
  });

  it('are skipped when WebAssembly is missing or rejects the module', () => {
    assert.equal(compileXorModule(undefined), undefined);
    const noSimd = { validate: () => false } as unknown as WasmApi;
    assert.equal(compileXorModule(noSimd), undefined);
    const broken = {
      validate: () => true,
      Module: function () {
        throw new Error('no');
      },
    } as unknown as WasmApi;
    assert.equal(compileXorModule(broken), undefined);
  });

  it('reject chunks larger than their scratch memory', () => {
    const k = XorKernel.create(1024) as XorKernel;
    const aes = nodeProvider.create(rnd(16));
    assert.throws(() => k.cbcDecrypt(aes, new Uint8Array(2048), 512, new Uint8Array(64)));
    assert.throws(() => XorKernel.create(8));
    aes.dispose();
  });
});

describe('XTS: WebAssembly path equals the JS path', () => {
  const big = 2 ** 32;
  for (const keyBytes of [64, 32]) {
    const spec = parseLuksCipher('aes', 'xts-plain64', keyBytes);
    for (const unit of [512, 4096]) {
      it(`aes-${keyBytes * 4}-xts, ${unit}-byte units`, () => {
        // 1..7 units exercise the four-unit groups and the remainder; 200 KiB spans chunks.
        for (const units of [1, 2, 3, 4, 5, 7, 9]) {
          compare(spec, unit, units * unit, units * 1000, 0);
        }
        compare(spec, unit, 200 * 1024, big + 12345, 0);
        compare(spec, unit, 3 * unit, 2 ** 52 - 100, 0);
        for (const shift of [1, 2, 3, 4, 8, 15]) compare(spec, unit, 5 * unit, big - 1, shift);
      });
    }
  }

  it('short units (16 and 48 bytes) and long ones (8 KiB)', () => {
    const spec = parseLuksCipher('aes', 'xts-plain64', 64);
    compare(spec, 16, 16 * 37, 7, 0);
    compare(spec, 48, 48 * 33, big + 1, 3);
    compare(spec, 8192, 8192 * 11, big * 3, 0);
  });

  it('matches the noble provider with ESSIV IVs', () => {
    const spec = parseLuksCipher('aes', 'xts-essiv:sha256', 64);
    const { wasm, jsNoble } = pair(spec, 512);
    const a = rnd(70 * 1024);
    const b = a.slice();
    wasm.encrypt(a, big + 5);
    jsNoble.encrypt(b, big + 5);
    assert.deepEqual(a, b);
    wasm.dispose();
    jsNoble.dispose();
  });
});

describe('CBC decryption: WebAssembly path equals the JS path', () => {
  for (const [mode, keyBytes] of [
    ['cbc-essiv:sha256', 32],
    ['cbc-plain64', 16],
    ['cbc-plain', 24],
  ] as const) {
    it(`aes-${mode} (${keyBytes * 8}-bit)`, () => {
      const spec = parseLuksCipher('aes', mode, keyBytes);
      for (const unit of [512, 4096]) {
        for (const units of [1, 2, 5]) compare(spec, unit, units * unit, 99, 0);
        compare(spec, unit, 136 * 1024, 2 ** 32 + 7, 0);
        compare(spec, unit, 3 * unit, 2 ** 40, 1);
      }
    });
  }

  it('legacy qcow AES, unaligned shared buffer', () => {
    const pass = new TextEncoder().encode('secret');
    const enc = createLegacyAesCipher(pass);
    const dec = createLegacyAesCipher(pass);
    const plain = rnd(130 * 512);
    const ct = plain.slice();
    enc.encrypt(ct, 2 ** 33);
    const view = shifted(ct, 5, true);
    dec.decrypt(view, 2 ** 33);
    assert.deepEqual(Uint8Array.from(view), plain);
    enc.dispose();
    dec.dispose();
  });
});

describe('JS fallback (WebAssembly disabled)', () => {
  it('still round-trips and matches the default cipher', () => {
    const spec = parseLuksCipher('aes', 'xts-plain64', 64);
    const key = rnd(64);
    const off = createSectorCipher(spec, key, 4096, nodeProvider, { wasm: false });
    const on = createSectorCipher(spec, key, 4096);
    const plain = rnd(64 * 1024);
    const a = plain.slice();
    const b = plain.slice();
    off.encrypt(a, 2 ** 35);
    on.encrypt(b, 2 ** 35);
    assert.deepEqual(a, b);
    off.decrypt(a, 2 ** 35);
    assert.deepEqual(a, plain);
    off.dispose();
    on.dispose();
  });
});
