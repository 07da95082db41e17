/**
 * The data pass of a master-key rotation: every encrypted range of the image re-encrypted in
 * place, zone by zone, with the journal's record written before each zone is touched
 * (rekey-journal.ts). Write order per zone (docs/DESIGN.md "Data safety"):
 *   1. the image is flushed (the previous zone is durable under the new key);
 *   2. the record naming this zone and its old fingerprints is written and fsynced;
 *   3. the zone is decrypted with the old key, encrypted with the new one and written back.
 * So at any kill every unit's key is known: below the zone new, above it old, inside it the
 * fingerprint tells. Extra space: the journal only (no copy of the data).
 */
import type { DataCipher } from '../crypto/data-cipher.js';
import type { HostRange } from '../formats/qcow2/data-clusters.js';
import { readInto, type BlockDevice } from '../io/block-device.js';
import type { JobContext } from './job-registry.js';
import { FINGERPRINT_BYTES, type OpenJournal, type RekeyRecord } from './rekey-journal.js';

/** What the data pass works on. */
export interface RekeySpace {
  dev: BlockDevice;
  /** Encrypted ranges of the file, sorted (qcow2 data clusters, or the LUKS payload). */
  ranges: HostRange[];
  unit: number;
  /** IV sector (512-byte units) of the unit at file offset `offset`. */
  ivSector(offset: number): number;
  oldCipher: DataCipher;
  newCipher: DataCipher;
  /** A shared buffer of at least the zone size (the pool works on it in place). */
  buffer: Uint8Array;
}

export interface RotationStats {
  bytesRekeyed: number;
  bytesTotal: number;
}

const total = (rs: HostRange[]) => rs.reduce((n, r) => n + r.length, 0);

/** The next zone from `cursor`: up to `zoneBytes` over at most `maxRanges` ranges. */
export function nextZone(
  ranges: HostRange[],
  cursor: number,
  zoneBytes: number,
  maxRanges: number
): HostRange[] {
  const out: HostRange[] = [];
  let bytes = 0;
  for (const r of ranges) {
    const end = r.start + r.length;
    if (end <= cursor) continue;
    const start = Math.max(r.start, cursor);
    const len = Math.min(end - start, zoneBytes - bytes);
    out.push({ start, length: len });
    bytes += len;
    if (bytes >= zoneBytes || out.length >= maxRanges) break;
  }
  return out;
}

/** Re-encrypts `buf` (file offset `start`) and writes it back in place. */
async function reencryptAndWrite(space: RekeySpace, buf: Uint8Array, start: number): Promise<void> {
  const iv = space.ivSector(start);
  const plain = await space.oldCipher.decrypt(buf, iv);
  const out = await space.newCipher.encrypt(plain, iv);
  await space.dev.write(out, start);
}

/** Slice size of the zone's crypto: slice k+1 is decrypted while slice k is encrypted. */
const SLICE = 1024 * 1024;

/** Re-encrypts the zone's data in `buf` (ranges laid end to end) in place. */
async function reencryptZone(space: RekeySpace, zone: HostRange[], buf: Uint8Array): Promise<void> {
  const jobs: Promise<void>[] = [];
  let at = 0;
  for (const r of zone) {
    for (let off = 0; off < r.length; off += SLICE) {
      const piece = buf.subarray(at + off, at + Math.min(r.length, off + SLICE));
      const iv = space.ivSector(r.start + off);
      jobs.push(
        space.oldCipher
          .decrypt(piece, iv)
          .then((plain) => space.newCipher.encrypt(plain, iv))
          .then((out) => {
            if (out !== piece) piece.set(out);
          })
      );
    }
    at += r.length;
  }
  // Every job settles before this returns (none keeps running after a failure).
  const results = await Promise.allSettled(jobs);
  const failed = results.find((x) => x.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/**
 * Finishes the zone of an interrupted run: units still showing their old fingerprint are
 * re-encrypted; the others already hold new ciphertext.
 */
async function recoverZone(space: RekeySpace, rec: RekeyRecord): Promise<number> {
  let fp = 0;
  let done = 0;
  const u = space.unit;
  for (const r of rec.ranges) {
    for (let pos = r.start; pos < r.start + r.length;) {
      const len = Math.min(space.buffer.length, r.start + r.length - pos);
      const buf = space.buffer.subarray(0, len);
      await readInto(space.dev, buf, pos, 'encrypted data');
      // Runs of old units are re-encrypted and written back; new units are left alone.
      let runStart = -1;
      const flushRun = async (endUnit: number) => {
        if (runStart < 0) return;
        const piece = buf.subarray(runStart * u, endUnit * u);
        await reencryptAndWrite(space, piece, pos + runStart * u);
        done += piece.length;
        runStart = -1;
      };
      for (let k = 0; k < len / u; k++, fp++) {
        const want = rec.fingerprints.subarray(
          fp * FINGERPRINT_BYTES,
          (fp + 1) * FINGERPRINT_BYTES
        );
        const got = buf.subarray(k * u, k * u + FINGERPRINT_BYTES);
        const old = want.length === FINGERPRINT_BYTES && got.every((b, i) => b === want[i]);
        if (old && runStart < 0) runStart = k;
        if (!old) await flushRun(k);
      }
      await flushRun(len / u);
      pos += len;
    }
  }
  await space.dev.flush();
  return done;
}

/**
 * Runs (or resumes) the data pass and leaves the journal in phase `finishing`.
 * Cancel is honoured between zones (`CANCELLED`; the image stays resumable).
 */
export async function runRotation(
  space: RekeySpace,
  journal: OpenJournal,
  ctx: JobContext
): Promise<RotationStats> {
  const { zoneBytes, maxRanges } = journal.plan;
  const bytesTotal = total(space.ranges);
  const prev = journal.record;
  let seq = prev ? prev.seq + 1 : 1;
  let cursor = 0;
  let bytesRekeyed = 0;
  if (prev?.phase === 'finishing') return { bytesRekeyed, bytesTotal };
  if (prev) {
    bytesRekeyed += await recoverZone(space, prev);
    const last = prev.ranges[prev.ranges.length - 1];
    cursor = last ? last.start + last.length : prev.cursor;
  }
  const doneBefore = total(space.ranges.map((r) => clip(r, cursor)));
  ctx.progress.setPhase('rekeying', bytesTotal, doneBefore);
  for (;;) {
    ctx.throwIfCancelled();
    const zone = nextZone(space.ranges, cursor, zoneBytes, maxRanges);
    if (zone.length === 0) break;
    const zoneLen = total(zone);
    const buf = space.buffer.subarray(0, zoneLen);
    let at = 0;
    for (const r of zone) {
      await readInto(space.dev, buf.subarray(at, at + r.length), r.start, 'encrypted data');
      at += r.length;
    }
    const units = zoneLen / space.unit;
    const fingerprints = new Uint8Array(units * FINGERPRINT_BYTES);
    for (let k = 0; k < units; k++) {
      fingerprints.set(
        buf.subarray(k * space.unit, k * space.unit + FINGERPRINT_BYTES),
        k * FINGERPRINT_BYTES
      );
    }
    await journal.write({
      seq: seq++,
      phase: 'rotating',
      cursor: zone[0]!.start,
      ranges: zone,
      fingerprints,
    });
    // Crypto first, for the whole zone at once (the two pools work side by side), then writes.
    await reencryptZone(space, zone, buf);
    at = 0;
    for (const r of zone) {
      await space.dev.write(buf.subarray(at, at + r.length), r.start);
      at += r.length;
    }
    await space.dev.flush();
    bytesRekeyed += zoneLen;
    ctx.progress.advance(zoneLen);
    const last = zone[zone.length - 1]!;
    cursor = last.start + last.length;
  }
  ctx.progress.flush();
  await journal.write({
    seq,
    phase: 'finishing',
    cursor,
    ranges: [],
    fingerprints: new Uint8Array(0),
  });
  return { bytesRekeyed, bytesTotal };
}

/** The part of `r` below `cursor`. */
function clip(r: HostRange, cursor: number): HostRange {
  return { start: r.start, length: Math.max(0, Math.min(r.length, cursor - r.start)) };
}
