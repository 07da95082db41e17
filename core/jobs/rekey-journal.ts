/**
 * The journal of a master-key rotation, `IMAGE.rekey-journal` (README "Master-key rotation",
 * docs/decisions.md "Master-key rotation"): mode 0600, beside the image.
 *
 * - A fixed part, written once, fsynced and renamed into place before the image is touched:
 *   the old and the new LUKS header region (keys only as keyslots sealed by passphrases, never
 *   in plain), and what the rotation covers. SHA-256 over it.
 * - Two record slots written in turn (the newest valid one counts; a torn one is ignored):
 *   the phase, the zone being rewritten (every data range below its start is under the new
 *   key, every one from its end on under the old) and a fingerprint of each encryption unit
 *   of the zone as it was before (its first 16 bytes of old ciphertext). After a crash a unit
 *   of the zone that still shows its fingerprint is old; any other is new: a unit is written
 *   whole (units are 512 or 4096 bytes, the page and sector granularity of the writes), and
 *   new ciphertext equals old in 16 bytes with probability 2^-128. cryptsetup's LUKS2
 *   "checksum" resilience works the same way, with hashes.
 */
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';
import { hash } from '../crypto/hash.js';
import type { HostRange } from '../formats/qcow2/data-clusters.js';

export const FINGERPRINT_BYTES = 16;
const MAGIC = 'IVREKEY1';
const REC_MAGIC = 'IVRKREC1';
const FIXED_HEAD = 56;
const REC_HEAD = 40;
const PAGE = 4096;

/** Public facts of a rotation, recorded once. */
export interface RekeyPlan {
  kind: 'qcow2' | 'luks';
  luksVersion: 1 | 2;
  /** The LUKS header region in the image file. */
  region: { offset: number; length: number };
  /** Encryption unit in bytes (512, or the LUKS2 sector size). */
  unit: number;
  /** qcow2 v3: the incompatible feature bit set while rotating. */
  qcow2Bit: boolean;
  /** Keyslots of the new header, and which passphrase each holds. */
  slots: { slot: number; passphrase: 'given' | 'new' | `other-${number}` }[];
  droppedSlots: number[];
  /** The LUKS UUID (checked on resume). */
  uuid: string;
  /** Most bytes of one zone, and most ranges in one. */
  zoneBytes: number;
  maxRanges: number;
  createdAt: string;
}

export interface RekeyRecord {
  seq: number;
  phase: 'rotating' | 'finishing';
  /** Every data range below this offset is under the new key. */
  cursor: number;
  ranges: HostRange[];
  fingerprints: Uint8Array;
}

export interface OpenJournal {
  path: string;
  plan: RekeyPlan;
  oldHeader: Uint8Array;
  newHeader: Uint8Array;
  /** The newest valid record, if any was written. */
  record?: RekeyRecord;
  write(rec: RekeyRecord): Promise<void>;
  close(): Promise<void>;
}

export const journalPathForImage = (image: string) => `${image}.rekey-journal`;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Non-zero 4 KiB pages of `bytes` as runs [offset, length]. */
function pages(bytes: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let p = 0; p < bytes.length; p += PAGE) {
    const page = bytes.subarray(p, Math.min(bytes.length, p + PAGE));
    if (page.every((b) => b === 0)) continue;
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === p) last[1] += page.length;
    else runs.push([p, page.length]);
  }
  return runs;
}

function recordSlotSize(plan: RekeyPlan): number {
  const units = Math.ceil(plan.zoneBytes / plan.unit);
  const bytes = REC_HEAD + 16 * plan.maxRanges + FINGERPRINT_BYTES * units + 32;
  return Math.ceil(bytes / PAGE) * PAGE;
}

/** Bytes the journal takes at most for `plan` and a header region of `regionLength` bytes. */
export function journalBound(
  plan: Pick<RekeyPlan, 'zoneBytes' | 'maxRanges' | 'unit'>,
  regionLength: number
): number {
  return PAGE + 2 * regionLength + 2 * recordSlotSize(plan as RekeyPlan) + PAGE;
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(dirname(path), constants.O_RDONLY).catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // some file systems refuse fsync on directories
  } finally {
    await fh.close();
  }
}

/**
 * Writes a fresh journal (temp file, fsync, rename, fsync of the folder) and opens it.
 * @throws `EXISTS` when a journal is already there.
 */
export async function createJournal(
  path: string,
  plan: RekeyPlan,
  oldHeader: Uint8Array,
  newHeader: Uint8Array
): Promise<OpenJournal> {
  const oldPages = pages(oldHeader);
  const newPages = pages(newHeader);
  const blobLen = [...oldPages, ...newPages].reduce((n, [, l]) => n + l, 0);
  const meta = { plan, oldPages, newPages, regionLength: oldHeader.length };
  const json = enc.encode(JSON.stringify(meta));
  const fixed = new Uint8Array(FIXED_HEAD + json.length + blobLen);
  const v = new DataView(fixed.buffer);
  fixed.set(enc.encode(MAGIC), 0);
  v.setUint32(8, json.length);
  v.setBigUint64(16, BigInt(blobLen));
  fixed.set(json, FIXED_HEAD);
  let at = FIXED_HEAD + json.length;
  for (const [src, runs] of [
    [oldHeader, oldPages],
    [newHeader, newPages],
  ] as const) {
    for (const [o, l] of runs) {
      fixed.set(src.subarray(o, o + l), at);
      at += l;
    }
  }
  fixed.set(hash('sha256', fixed.subarray(FIXED_HEAD)), 24);
  const tmp = `${path}.tmp`;
  await unlink(tmp).catch(() => undefined);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', 0o600);
  } catch (e) {
    throw toVaultError(e);
  }
  try {
    await fh.write(fixed, 0, fixed.length, 0);
    // The record slots exist (zeros: no record) so that records never extend the file.
    await fh.truncate(recordOffset(fixed.length) + 2 * recordSlotSize(plan));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await open(path, 'r').then(
      async (f) => {
        await f.close();
        throw fail('EXISTS', `An unfinished rotation's journal is already there: ${path}`);
      },
      () => undefined
    );
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(path);
  return openJournal(path);
}

const recordOffset = (fixedLength: number) => Math.ceil(fixedLength / PAGE) * PAGE;

function bad(path: string, why: string) {
  return fail(
    'CORRUPT',
    `The rotation journal ${path} is damaged (${why}): keep it and the image, and report this`
  );
}

/** Opens an existing journal. @throws `NOT_FOUND`, `CORRUPT` */
export async function openJournal(path: string): Promise<OpenJournal> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r+');
  } catch (e) {
    throw toVaultError(e);
  }
  try {
    const size = (await fh.stat()).size;
    const head = new Uint8Array(FIXED_HEAD);
    await fh.read(head, 0, FIXED_HEAD, 0);
    const hv = new DataView(head.buffer);
    if (dec.decode(head.subarray(0, 8)) !== MAGIC) throw bad(path, 'bad magic');
    const jsonLen = hv.getUint32(8);
    const blobLen = Number(hv.getBigUint64(16));
    const fixedLen = FIXED_HEAD + jsonLen + blobLen;
    if (fixedLen > size || jsonLen > 1 << 20) throw bad(path, 'truncated');
    const body = new Uint8Array(fixedLen - FIXED_HEAD);
    await fh.read(body, 0, body.length, FIXED_HEAD);
    const sum = hash('sha256', body);
    if (!sum.every((b, i) => b === head[24 + i])) throw bad(path, 'checksum');
    const meta = JSON.parse(dec.decode(body.subarray(0, jsonLen))) as {
      plan: RekeyPlan;
      oldPages: [number, number][];
      newPages: [number, number][];
      regionLength: number;
    };
    const oldHeader = new Uint8Array(meta.regionLength);
    const newHeader = new Uint8Array(meta.regionLength);
    let at = jsonLen;
    for (const [dst, runs] of [
      [oldHeader, meta.oldPages],
      [newHeader, meta.newPages],
    ] as const) {
      for (const [o, l] of runs) {
        dst.set(body.subarray(at, at + l), o);
        at += l;
      }
    }
    const slotSize = recordSlotSize(meta.plan);
    const base = recordOffset(fixedLen);
    let record: RekeyRecord | undefined;
    for (let s = 0; s < 2; s++) {
      const buf = new Uint8Array(slotSize);
      await fh.read(buf, 0, slotSize, base + s * slotSize);
      const r = parseRecord(buf);
      if (r && (!record || r.seq > record.seq)) record = r;
    }
    const handle = fh;
    return {
      path,
      plan: meta.plan,
      oldHeader,
      newHeader,
      ...(record ? { record } : {}),
      async write(rec) {
        const bytes = serializeRecord(rec);
        if (bytes.length > slotSize) throw fail('INTERNAL', 'Rotation record too large');
        await handle.write(bytes, 0, bytes.length, base + (rec.seq % 2) * slotSize);
        await handle.datasync();
      },
      close: () => handle.close(),
    };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw toVaultError(e);
  }
}

function serializeRecord(r: RekeyRecord): Uint8Array {
  const len = REC_HEAD + 16 * r.ranges.length + r.fingerprints.length;
  const out = new Uint8Array(len + 32);
  const v = new DataView(out.buffer);
  out.set(enc.encode(REC_MAGIC), 0);
  v.setBigUint64(8, BigInt(r.seq));
  v.setUint32(16, r.phase === 'rotating' ? 1 : 2);
  v.setUint32(20, r.ranges.length);
  v.setBigUint64(24, BigInt(r.cursor));
  v.setUint32(32, r.fingerprints.length);
  r.ranges.forEach((x, i) => {
    v.setBigUint64(REC_HEAD + i * 16, BigInt(x.start));
    v.setBigUint64(REC_HEAD + i * 16 + 8, BigInt(x.length));
  });
  out.set(r.fingerprints, REC_HEAD + 16 * r.ranges.length);
  out.set(hash('sha256', out.subarray(0, len)), len);
  return out;
}

function parseRecord(buf: Uint8Array): RekeyRecord | undefined {
  if (dec.decode(buf.subarray(0, 8)) !== REC_MAGIC) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const n = v.getUint32(20);
  const fpLen = v.getUint32(32);
  const len = REC_HEAD + 16 * n + fpLen;
  if (len + 32 > buf.length) return undefined;
  const sum = hash('sha256', buf.subarray(0, len));
  if (!sum.every((b, i) => b === buf[len + i])) return undefined;
  const ranges: HostRange[] = [];
  for (let i = 0; i < n; i++) {
    ranges.push({
      start: Number(v.getBigUint64(REC_HEAD + i * 16)),
      length: Number(v.getBigUint64(REC_HEAD + i * 16 + 8)),
    });
  }
  return {
    seq: Number(v.getBigUint64(8)),
    phase: v.getUint32(16) === 1 ? 'rotating' : 'finishing',
    cursor: Number(v.getBigUint64(24)),
    ranges,
    fingerprints: buf.slice(REC_HEAD + 16 * n, len),
  };
}

/** Removes the journal once the image is whole again (then fsyncs the folder). */
export async function removeRekeyJournal(path: string): Promise<void> {
  await unlink(path).catch((e: unknown) => {
    if ((e as { code?: string }).code !== 'ENOENT') throw toVaultError(e);
  });
  await syncDir(path);
}
