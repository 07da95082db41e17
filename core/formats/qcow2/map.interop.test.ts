/**
 * `resolve()`, `mapSegments()` and `map()` against a simple per-cluster reference (one L2
 * lookup per cluster, docs/spec/qcow2.md §5–§7), on qemu-made images that mix data, zero,
 * unallocated, compressed and subcluster entries over backing chains, and on hostile
 * mutations of those images (the same errors, in the same order).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryDevice } from '../../io/memory-device.js';
import { peerTestOptions, runOk, scratchDir } from '../../testing/peers.js';
import type { GuestReader } from '../image.js';
import { COMPRESSED_HI, ZERO_LO, entryOffset } from './entries.js';
import { readQcow2Header, type Qcow2Header } from './header.js';
import { forMap, layerOf, refMap, refResolve, rng, type Layer } from './map-reference.js';
import { openQcow2 } from './reader.js';
import { L2Resolver } from './resolve.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
const K = 1024;
const M = 1024 * K;

// ---------------------------------------------------------------- comparing

type Outcome<T> = { ok: T } | { err: string };

async function outcome<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await f() };
  } catch (e) {
    const v = e as { code?: string; message?: string };
    return { err: `${v.code ?? 'no code'}: ${v.message ?? String(e)}` };
  }
}

/** Ranges to compare: whole disk, 4 MiB copy chunks if asked, random (mostly unaligned). */
function ranges(size: number, seed: number, n: number, chunks: boolean): [number, number][] {
  const r = rng(seed);
  const out: [number, number][] = [
    [0, size],
    [0, 0],
    [size, 0],
  ];
  for (let o = 0; chunks && o < size; o += 4 * M) out.push([o, Math.min(4 * M, size - o)]);
  for (let i = 0; i < n; i++) {
    const o = r(4) === 0 ? r(size / 512) * 512 : r(size);
    const max = size - o;
    const len = r(3) === 0 ? r(max + 1) : Math.min(max, r(4) === 0 ? r(512) : r(300 * K));
    out.push([o, len]);
  }
  return out;
}

interface Opened {
  layer: Layer;
  image: GuestReader;
  resolver: L2Resolver;
}

/** Opens `bytes` (backed by `backing`) both through the code under test and the reference. */
async function openBoth(bytes: Uint8Array, backing?: Opened): Promise<Opened> {
  const layer = await layerOf(bytes, backing?.layer);
  const image = await openQcow2(new MemoryDevice(bytes, false), {
    openBacking: async () => {
      if (!backing) throw new Error('unexpected backing');
      return backing.image;
    },
  });
  const resolver = new L2Resolver(new MemoryDevice(bytes, false), layer.h, layer.l1);
  return { layer, image, resolver };
}

/** Compares on `n` random ranges (and the fixed ones); returns how many were rejected. */
async function compareAll(
  o: Opened,
  seed: number,
  n: number,
  what: string,
  chunks = true
): Promise<number> {
  let rejected = 0;
  for (const [off, len] of ranges(o.image.virtualSize, seed, n, chunks)) {
    const at = `${what} ${off}+${len} (seed ${seed})`;
    const ref = await outcome(() => refResolve(o.layer, off, len));
    assert.deepEqual(await outcome(() => o.resolver.resolve(off, len)), ref, `resolve ${at}`);
    const refMapped = 'ok' in ref ? { ok: forMap(ref.ok) } : ref;
    const mapped = await outcome(() => o.resolver.mapSegments(off, len));
    assert.deepEqual(mapped, refMapped, `mapSegments ${at}`);
    const exts = await outcome(() => o.image.map(off, len));
    assert.deepEqual(exts, await outcome(() => refMap(o.layer, off, len)), `map ${at}`);
    if ('err' in ref) rejected++;
  }
  return rejected;
}

// ---------------------------------------------------------------- hostile mutations

/** Overwrites one L1 or L2 entry of `img` with a value chosen to break a rule (or not). */
function mutate(img: Uint8Array, h: Qcow2Header, r: (n: number) => number): Uint8Array {
  const copy = img.slice();
  const v = new DataView(copy.buffer);
  const clusters = Math.ceil(h.size / h.clusterSize);
  /** L2 entries that map guest clusters (a table's tail may lie past the disk's end). */
  const entries: number[] = [];
  for (let i = 0; i < h.l1Size; i++) {
    const at = h.l1TableOffset + i * 8;
    const off = entryOffset(v.getUint32(at), v.getUint32(at + 4));
    if (off === 0 || off + h.clusterSize > copy.length) continue;
    const n = Math.min(h.l2Entries, clusters - i * h.l2Entries);
    for (let j = 0; j < n; j++) entries.push(off + j * h.l2EntrySize);
  }
  const end = h.fileSize;
  const cs = h.clusterSize;
  const rnd32 = () => r(0x10000) * 0x10000 + r(0x10000);
  const set = (at: number, hi: number, lo: number) => {
    v.setUint32(at, hi >>> 0);
    v.setUint32(at + 4, lo >>> 0);
  };
  const hiOf = (x: number) => Math.floor(x / 2 ** 32);
  if (r(6) === 0 || entries.length === 0) {
    const at = h.l1TableOffset + r(h.l1Size) * 8;
    const l2 = Math.floor((entries[0] ?? cs) / cs) * cs;
    const pick = [end + cs, cs + 512, rnd32() & 0xffffff00, l2 + 0x100, 0];
    const x = pick[r(pick.length)]!;
    set(at, hiOf(x), x);
    return copy;
  }
  const at = entries[r(entries.length)]!;
  const host = r(Math.ceil(end / cs) + 4) * cs;
  const odd = host + 512 * (1 + r(Math.max(1, cs / 512 - 1)));
  const other = entries[r(entries.length)]!;
  const choices: (() => void)[] = [
    () => set(at, rnd32(), rnd32()),
    () => set(at, 0x80000000 + hiOf(host), host), // data, maybe past the end
    () => set(at, hiOf(odd), odd), // data, maybe misaligned
    () => set(at, hiOf(host), host | ZERO_LO), // zero flag, maybe with a host
    () => set(at, COMPRESSED_HI | r(0x4000), rnd32()), // compressed, random descriptor
    () => set(at, COMPRESSED_HI | (hiOf(end) + r(2)), rnd32()), // compressed near the end
    () => set(at, r(2) ? 0x80000000 : 0x01000000, r(2) ? 0x100 : 0), // flags only
    () => copy.copyWithin(at, other, other + h.l2EntrySize), // a duplicate host
  ];
  if (h.extendedL2) {
    const bit = (1 << r(32)) >>> 0;
    choices.push(
      () => (v.setUint32(at + 8, rnd32() | bit), v.setUint32(at + 12, bit)), // both halves
      () => (set(at, 0, 0), v.setUint32(at + 12, rnd32())), // allocated without a host
      () => (v.setUint32(at + 8, rnd32()), v.setUint32(at + 12, 0))
    );
  }
  choices[r(choices.length)]!();
  return copy;
}

// ---------------------------------------------------------------- the tests

const backed = (b: string, o = '') => ['-b', b, '-F', 'qcow2', ...(o ? ['-o', o] : [])];

describe('qcow2 map() matches a per-cluster reference', opts, () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  const images = new Map<string, Opened>();
  const bytes = new Map<string, Uint8Array>();

  /** name, `qemu-img create` options, size, `qemu-io` commands. */
  const fixtures: [string, string[], string, string[]][] = [
    // Data, compressed, zero, a partial cluster; smaller than the images it backs.
    [
      'base.qcow2',
      [],
      '6M',
      [
        'write -P 1 0 1M',
        'write -c -P 2 1M 128k',
        'write -z 2M 128k',
        'write -P 3 3M 4k',
        'write -P 4 5M 512k',
      ],
    ],
    // Zero over compressed, data over zero, compressed and zero past the backing's end,
    // hosts out of guest order (3840k is allocated after 4M).
    [
      'top.qcow2',
      backed('base.qcow2'),
      '10M',
      [
        'write -P 5 4k 8k',
        'write -z 1M 64k',
        'write -P 6 2M 64k',
        'write -c -P 7 7M 192k',
        'write -P 8 4M 64k',
        'write -P 9 3840k 64k',
        'write -z 8M 1M',
        'write -P 10 9M 64k',
        'write -z 9M 4k',
      ],
    ],
    // Subclusters (2 KiB): partial data, zero and unallocated ones in one cluster.
    [
      'ext.qcow2',
      backed('base.qcow2', 'extended_l2=on'),
      '10M',
      [
        'write -P 1 4k 4k',
        'write -P 2 64k 64k',
        'write -z 130k 6k',
        'write -z 200k 8k',
        'write -c -P 3 1M 64k',
        'write -P 4 3M 2k',
        'write -P 5 5M 1M',
        'write -z 7M 64k',
        'write -P 6 9M 3k',
      ],
    ],
    [
      'v2-512.qcow2',
      ['-o', 'compat=0.10,cluster_size=512'],
      '4M',
      [
        'write -P 1 0 3k',
        'write -c -P 2 8k 2k',
        'write -z 16k 4k',
        'write -P 3 1M 70k',
        'write -P 4 512k 1k',
        'write -P 5 4095k 1k',
      ],
    ],
    // Many L2 tables (2 MiB each), most L1 entries empty.
    [
      'c4k.qcow2',
      backed('base.qcow2', 'cluster_size=4096'),
      '64M',
      [
        'write -P 1 0 12k',
        'write -P 2 17M 64k',
        'write -z 5M 8k',
        'write -c -P 3 40M 8k',
        'write -P 4 65476k 60k',
      ],
    ],
    // Depth 2 with finer clusters than its backing (granules of 4k over 64k).
    [
      'chain.qcow2',
      backed('top.qcow2', 'cluster_size=4096'),
      '12M',
      ['write -P 1 68k 4k', 'write -z 1M 4k', 'write -P 2 11M 4k'],
    ],
  ];

  const kindsOf: Record<string, string> = {
    'v2-512.qcow2': 'compressed data unallocated',
    'chain.qcow2': 'data unallocated zero',
  };
  const all = 'compressed data unallocated zero';
  for (const n of ['base.qcow2', 'top.qcow2', 'ext.qcow2', 'c4k.qcow2']) kindsOf[n] = all;

  before(async () => {
    ({ dir, cleanup } = await scratchDir('qcow2-map-'));
    for (const [name, create, size, io] of fixtures) {
      const path = join(dir, name);
      await runOk('qemu-img', ['create', '-f', 'qcow2', ...create, path, size]);
      const cmds = io.flatMap((c) => ['-c', c]);
      await runOk('qemu-io', ['-f', 'qcow2', ...cmds, path]);
      const b = new Uint8Array(await readFile(path));
      bytes.set(name, b);
      const h = await readQcow2Header(new MemoryDevice(b, false));
      const back = h.backingFile === undefined ? undefined : images.get(h.backingFile);
      images.set(name, await openBoth(b, back));
    }
  });
  after(async () => {
    for (const o of images.values()) await o.image.close();
    await cleanup();
  });

  for (const [i, [name]] of fixtures.entries()) {
    it(`${name}: resolve, mapSegments and map equal the reference`, async () => {
      const o = images.get(name)!;
      await compareAll(o, 1000 + i, 150, name);
      // The fixtures really mix the kinds the walk tells apart (v2 has no zero flag).
      const segs = await o.resolver.resolve(0, o.image.virtualSize);
      const kinds = [...new Set(segs.map((s) => s.kind))].sort().join(' ');
      assert.equal(kinds, kindsOf[name], name);
    });
  }

  for (const name of ['top.qcow2', 'ext.qcow2', 'v2-512.qcow2', 'c4k.qcow2']) {
    it(`${name}: hostile L1/L2 entries fail (or not) exactly like the reference`, async () => {
      const src = bytes.get(name)!;
      const h = images.get(name)!.layer.h;
      const backing = h.backingFile === undefined ? undefined : images.get(h.backingFile);
      let errors = 0;
      for (let k = 0; k < 150; k++) {
        const o = await openBoth(mutate(src, h, rng(7000 + k)), backing);
        errors += await compareAll(o, 9000 + k, 8, `${name} mutation ${k}`, false);
      }
      assert.ok(errors > 0 && errors < 150 * 11, `${errors} rejected ranges`);
    });
  }
});
