/** Serialises the qcow2 header and extensions the way qemu-img 7.2 lays them out (§2, §4, §9). */
import { fail } from '../../api/errors.js';
import { writeU64 } from './entries.js';
import { EXT_BACKING_FORMAT, EXT_CRYPTO, EXT_FEATURE_TABLE, QCOW_MAGIC } from './header.js';

export interface HeaderFields {
  version: 2 | 3;
  clusterBits: number;
  size: number;
  cryptMethod: 0 | 1 | 2;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountOrder: number;
  backingFile?: string;
  backingFormat?: string;
  cryptoHeader?: { offset: number; length: number };
}

const FEATURES: [number, number, string][] = [
  [0, 0, 'dirty bit'],
  [0, 1, 'corrupt bit'],
  [0, 2, 'external data file'],
  [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'],
  [1, 0, 'lazy refcounts'],
  [2, 0, 'bitmaps'],
  [2, 1, 'raw external data'],
];

const enc = new TextEncoder();

function ext(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + Math.ceil(data.length / 8) * 8);
  const v = new DataView(out.buffer);
  v.setUint32(0, type);
  v.setUint32(4, data.length);
  out.set(data, 8);
  return out;
}

/** Returns the header bytes (header, extensions, terminator, backing name); ≤ cluster size. */
export function buildHeader(f: HeaderFields): Uint8Array {
  const cs = 2 ** f.clusterBits;
  const fixedLen = f.version === 3 ? 112 : 72;
  const fixed = new Uint8Array(fixedLen);
  const v = new DataView(fixed.buffer);
  v.setUint32(0, QCOW_MAGIC);
  v.setUint32(4, f.version);
  v.setUint32(20, f.clusterBits);
  writeU64(v, 24, f.size);
  v.setUint32(32, f.cryptMethod);
  v.setUint32(36, f.l1Size);
  writeU64(v, 40, f.l1TableOffset);
  writeU64(v, 48, f.refcountTableOffset);
  v.setUint32(56, f.refcountTableClusters);
  if (f.version === 3) {
    v.setUint32(96, f.refcountOrder);
    v.setUint32(100, 112);
  }
  const parts: Uint8Array[] = [fixed];
  if (f.backingFormat !== undefined)
    parts.push(ext(EXT_BACKING_FORMAT, enc.encode(f.backingFormat)));
  if (f.cryptoHeader) {
    const d = new Uint8Array(16);
    const dv = new DataView(d.buffer);
    writeU64(dv, 0, f.cryptoHeader.offset);
    writeU64(dv, 8, f.cryptoHeader.length);
    parts.push(ext(EXT_CRYPTO, d));
  }
  const name = f.backingFile === undefined ? undefined : enc.encode(f.backingFile);
  if (name && name.length > 1023) throw fail('INVALID_ARGUMENT', 'Backing file name is too long');
  const used = () => parts.reduce((n, p) => n + p.length, 0);
  if (f.version === 3) {
    const table = new Uint8Array(FEATURES.length * 48);
    FEATURES.forEach(([type, bit, n], i) => {
      table[i * 48] = type;
      table[i * 48 + 1] = bit;
      table.set(enc.encode(n), i * 48 + 2);
    });
    // The feature-name table is optional; leave it out when the header cluster is tiny.
    if (used() + 8 + table.length + 8 + (name?.length ?? 0) <= cs) {
      parts.push(ext(EXT_FEATURE_TABLE, table));
    }
  }
  parts.push(new Uint8Array(8));
  if (name) {
    writeU64(v, 8, used());
    v.setUint32(16, name.length);
    parts.push(name);
  }
  const total = used();
  if (total > cs) throw fail('INVALID_ARGUMENT', 'The qcow2 header does not fit in one cluster');
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
