/** Unit tests on MemoryDevice: hostile headers, encryption IV rules, writer invariants. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDevice } from '../../io/memory-device.js';
import { patternBytes } from '../../testing/bytes.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import type { HeaderIO } from '../encryption.js';
import { probeFormat } from '../probe.js';
import { checkQcow2 } from './check.js';
import { createQcow2 } from './create.js';
import { openQcow2 } from './reader.js';

const K = 1024;
const M = 1024 * K;

async function sampleImage(
  size = 4 * M,
  extra: { backingFile?: string } = {}
): Promise<Uint8Array> {
  const dev = new MemoryDevice();
  const w = await createQcow2(dev, { virtualSize: size, ...extra });
  await w.write(patternBytes(128 * K, 1), M);
  await w.flush();
  return dev.bytes();
}

function mutate(img: Uint8Array, f: (v: DataView) => void): MemoryDevice {
  const copy = img.slice();
  f(new DataView(copy.buffer));
  return new MemoryDevice(copy, false);
}

/** A reversible fake cipher: XOR each byte with a function of its 512-byte unit's IV. */
function xorCipher(calls: { iv: number; len: number }[] = []): DataCipher {
  const apply = (d: Uint8Array, iv: number) => {
    for (let i = 0; i < d.length; i++) d[i]! ^= ((iv + Math.floor(i / 512)) * 37 + 11) & 0xff || 1;
    return d;
  };
  return {
    sectorSize: 512,
    encrypt: async (d, iv) => (calls.push({ iv, len: d.length }), apply(d, iv)),
    decrypt: async (d, iv) => apply(d, iv),
    dispose: async () => {},
  };
}

describe('qcow2 hostile headers', () => {
  it('truncated files fail with TRUNCATED (or NOT_AN_IMAGE) quickly', async () => {
    const img = await sampleImage();
    for (const n of [0, 3, 4, 50, 71, 100, 111, 65536, 65536 * 3 + 4]) {
      await assert.rejects(
        openQcow2(new MemoryDevice(img.subarray(0, n), false)),
        (e: { code?: string }) => ['TRUNCATED', 'NOT_AN_IMAGE', 'CORRUPT'].includes(e.code ?? ''),
        `cut at ${n}`
      );
    }
  });

  const cases: [string, (v: DataView) => void, string, RegExp?][] = [
    ['bad magic', (v) => v.setUint32(0, 0x12345678), 'NOT_AN_IMAGE'],
    ['version 4', (v) => v.setUint32(4, 4), 'UNSUPPORTED_FEATURE'],
    ['cluster_bits 30', (v) => v.setUint32(20, 30), 'CORRUPT'],
    ['l1_size absurd', (v) => v.setUint32(36, 0xffffffff), 'CORRUPT'],
    ['l1_size too small for size', (v) => v.setUint32(36, 0), 'CORRUPT'],
    ['size huge', (v) => v.setBigUint64(24, 1n << 62n), 'CORRUPT'],
    ['size past 2^53', (v) => v.setBigUint64(24, (1n << 63n) + 5n), 'CORRUPT'],
    ['refcount_table_clusters absurd', (v) => v.setUint32(56, 0xffffffff), 'CORRUPT'],
    ['refcount_table_clusters zero', (v) => v.setUint32(56, 0), 'CORRUPT'],
    ['misaligned L1 offset', (v) => v.setBigUint64(40, 0x30200n), 'CORRUPT'],
    ['L1 past EOF', (v) => v.setBigUint64(40, 1n << 40n), 'TRUNCATED'],
    ['misaligned reftable', (v) => v.setBigUint64(48, 0x10008n), 'CORRUPT'],
    [
      'unknown incompatible bit 5',
      (v) => v.setBigUint64(72, 1n << 5n),
      'UNSUPPORTED_FEATURE',
      /bit 5/,
    ],
    ['external data file', (v) => v.setBigUint64(72, 4n), 'UNSUPPORTED_FEATURE', /external data/],
    ['compression bit without type', (v) => v.setBigUint64(72, 8n), 'CORRUPT'],
    ['header_length odd', (v) => v.setUint32(100, 105), 'CORRUPT'],
    ['refcount_order 7', (v) => v.setUint32(96, 7), 'CORRUPT'],
    ['crypt_method 2 without region', (v) => v.setUint32(32, 2), 'CORRUPT'],
    ['crypt_method 9', (v) => v.setUint32(32, 9), 'UNSUPPORTED_FEATURE'],
    [
      'snapshots absurd',
      (v) => (v.setUint32(60, 0xffffff), v.setBigUint64(64, 0x10000n)),
      'CORRUPT',
    ],
  ];
  for (const [name, f, code, msg] of cases) {
    it(name, async () => {
      const dev = mutate(await sampleImage(), f);
      await assert.rejects(openQcow2(dev), (e: { code?: string; message: string }) => {
        assert.equal(e.code, code, e.message);
        if (msg) assert.match(e.message, msg);
        return true;
      });
    });
  }

  it('L2 entry past EOF fails on read with CORRUPT', async () => {
    const img = await sampleImage();
    const dev = mutate(img, (v) => {
      const l1 = Number(v.getBigUint64(40));
      const l2 = Number(v.getBigUint64(l1) & 0x00fffffffffffe00n);
      v.setBigUint64(l2 + 16 * 8, (1n << 63n) | (1n << 45n));
    });
    const r = await openQcow2(dev);
    await assert.rejects(r.read(new Uint8Array(512), M), { code: 'CORRUPT' });
  });

  it('exposes the backing path so callers can detect loops (image backed by itself)', async () => {
    const img = await sampleImage(4 * M, { backingFile: 'self.qcow2' });
    const seen: string[] = [];
    const r = await openQcow2(new MemoryDevice(img, false, '/images/self.qcow2'), {
      openBacking: async (p) => {
        seen.push(p);
        throw Object.assign(new Error('loop'), { code: 'BACKING_LOOP' });
      },
    }).catch((e: { code?: string }) => e);
    assert.equal((r as { code?: string }).code, 'BACKING_LOOP');
    assert.deepEqual(seen, ['/images/self.qcow2']);
    const plain = await openQcow2(new MemoryDevice(img, false, '/images/self.qcow2'));
    assert.equal(plain.backingPath, '/images/self.qcow2');
    await assert.rejects(plain.read(new Uint8Array(512), 0), { code: 'INVALID_ARGUMENT' });
  });

  it('probe recognises formats and refuses unknown qcow versions', async () => {
    const img = await sampleImage();
    assert.equal(await probeFormat(new MemoryDevice(img)), 'qcow2');
    assert.equal(await probeFormat(new MemoryDevice(new Uint8Array(0))), 'raw');
    assert.equal(await probeFormat(new MemoryDevice(new Uint8Array([0x51, 0x46]))), 'raw');
    const luks = new Uint8Array(16);
    luks.set([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0, 2]);
    assert.equal(await probeFormat(new MemoryDevice(luks)), 'luks');
    const v1 = img.slice(0, 64);
    v1[7] = 1;
    assert.equal(await probeFormat(new MemoryDevice(v1)), 'qcow');
    v1[7] = 9;
    await assert.rejects(probeFormat(new MemoryDevice(v1)), { code: 'UNSUPPORTED_FEATURE' });
  });
});

describe('qcow2 writer', () => {
  it('skips zero clusters, allocates contiguous runs, one encrypt call per run (LUKS host IVs)', async () => {
    const dev = new MemoryDevice();
    const calls: { iv: number; len: number }[] = [];
    let region: HeaderIO | undefined;
    const w = await createQcow2(dev, {
      virtualSize: 8 * M,
      encryption: {
        kind: 'luks',
        initHeader: async (allocRegion) => {
          region = await allocRegion(100000);
          await region.write(new Uint8Array([1, 2, 3]), 0);
          await assert.rejects(region.write(new Uint8Array(8), 99999), { code: 'CORRUPT' });
          return xorCipher(calls);
        },
      },
    });
    const src = new Uint8Array(8 * M);
    src.set(patternBytes(M, 2), 2 * M);
    src.set(patternBytes(1000, 3), 5 * M); // partial cluster: the rest must be encrypted zeros
    for (let p = 0; p < 8 * M; p += M) await w.write(src.subarray(p, p + M), p);
    await w.flush();
    assert.deepEqual(
      calls.map((c) => c.len),
      [M, 65536]
    );
    const raw = dev.bytes();
    const r = await openQcow2(new MemoryDevice(raw, false), {
      unlock: async (kind, reg) => {
        assert.equal(kind, 'luks');
        const b = new Uint8Array(3);
        await reg!.read(b, 0);
        assert.deepEqual([...b], [1, 2, 3]);
        assert.equal(reg!.length, 100000);
        return xorCipher();
      },
    });
    assert.equal(r.cryptMethod, 2);
    const back = new Uint8Array(8 * M);
    await r.read(back, 0);
    assert.ok(Buffer.from(back).equals(Buffer.from(src)));
    // The data run's IV is its host offset / 512 and the host bytes are ciphertext.
    const hostIv = calls[0]!.iv;
    const host = hostIv * 512;
    assert.ok(host > 2 * 65536);
    assert.notDeepEqual(raw.subarray(host, host + 512), src.subarray(2 * M, 2 * M + 512));
    const plain = await xorCipher().decrypt(raw.slice(host, host + 512), hostIv);
    assert.deepEqual(plain, src.subarray(2 * M, 2 * M + 512));
    // Unwritten sectors of the partial cluster hold encrypted zeros (not raw zeros).
    const pIv = calls[1]!.iv;
    const tail = raw.slice(pIv * 512 + 1024, pIv * 512 + 1536);
    assert.ok(tail.some((b) => b !== 0));
    assert.ok((await xorCipher().decrypt(tail, pIv + 2)).every((b) => b === 0));
    const ck = await checkQcow2(new MemoryDevice(raw));
    assert.equal(ck.corruptions + ck.leaks, 0, ck.messages.join('\n'));
    const ext = await r.map(0, 8 * M);
    assert.deepEqual(
      ext.map((e) => e.kind),
      ['zero', 'data', 'zero', 'data', 'zero']
    );
  });

  it('grows the refcount table and keeps exact refcounts (512-byte clusters)', async () => {
    const dev = new MemoryDevice();
    const w = await createQcow2(dev, { virtualSize: 2 * M, clusterSize: 512 });
    const data = patternBytes(2 * M, 4);
    await w.write(data, 0);
    await w.flush();
    const ck = await checkQcow2(new MemoryDevice(dev.bytes()));
    assert.equal(ck.corruptions + ck.leaks, 0, ck.messages.slice(0, 5).join('\n'));
    assert.equal(ck.allocatedClusters, 4096);
    const r = await openQcow2(new MemoryDevice(dev.bytes()));
    const back = new Uint8Array(2 * M);
    await r.read(back, 0);
    assert.ok(Buffer.from(back).equals(Buffer.from(data)));
  });

  it('refuses unaligned writes', async () => {
    const w = await createQcow2(new MemoryDevice(), { virtualSize: M });
    await assert.rejects(w.write(new Uint8Array(512), 512), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(w.write(new Uint8Array(65536), M), { code: 'INVALID_ARGUMENT' });
  });
});

describe('checkQcow2 finds damage', () => {
  it('refcount 0 on a used data cluster: errors; extra refcount: a leak', async () => {
    const img = await sampleImage();
    const refblock = Number(new DataView(img.buffer).getBigUint64(0x10000));
    const broken = img.slice();
    broken[refblock + 5 * 2 + 1] = 0; // cluster 5 (first data cluster) refcount 0
    const ck = await checkQcow2(new MemoryDevice(broken));
    assert.ok(ck.corruptions >= 2, ck.messages.join('\n'));
    const leaky = img.slice();
    leaky[refblock + 40 * 2 + 1] = 1; // unreferenced cluster with refcount 1
    const ck2 = await checkQcow2(new MemoryDevice(leaky));
    assert.equal(ck2.corruptions, 0);
    assert.equal(ck2.leaks, 1);
  });
});
