/**
 * The rotation's data pass and journal (rekey-engine.ts, rekey-journal.ts) with deterministic
 * crashes: a device that dies part-way through a write (a torn zone: some units new, some old,
 * as a kill leaves them) or before it, at every write in turn; then a resume from the journal
 * as written. Every unit must end under the new key with the old plaintext. Also torn and
 * corrupted journal records, and zone slicing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDmCipher } from '../crypto/cipher-spec.js';
import { inlineDataCipher } from '../crypto/data-cipher.js';
import { createSectorCipher } from '../crypto/sector-cipher.js';
import type { BlockDevice } from '../io/block-device.js';
import { MemoryDevice } from '../io/memory-device.js';
import { makeJobContext } from './job-registry.js';
import { ProgressReporter } from './progress.js';
import { nextZone, runRotation, type RekeySpace } from './rekey-engine.js';
import { createJournal, openJournal, type RekeyPlan } from './rekey-journal.js';

const spec = parseDmCipher('aes-xts-plain64', 64);
const K0 = new Uint8Array(64).map((_, i) => i + 1);
const K1 = new Uint8Array(64).map((_, i) => 200 - i);
const RANGES = [
  { start: 65536, length: 3 * 65536 },
  { start: 8 * 65536, length: 65536 },
  { start: 12 * 65536, length: 5 * 65536 },
];
const FILE = 20 * 65536;
const ZONE = 2 * 65536;

const plan: RekeyPlan = {
  kind: 'qcow2',
  luksVersion: 1,
  region: { offset: 0, length: 8192 },
  unit: 512,
  qcow2Bit: false,
  slots: [{ slot: 0, passphrase: 'given' }],
  droppedSlots: [],
  uuid: 'u',
  zoneBytes: ZONE,
  maxRanges: 8,
  createdAt: '',
};

/** A file whose ranges hold `plain` encrypted with K0 (IV = offset / 512). */
function image(): { bytes: Uint8Array; plain: Uint8Array } {
  const plain = new Uint8Array(FILE).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
  const bytes = plain.slice();
  const c = createSectorCipher(spec, K0);
  for (const r of RANGES) c.encrypt(bytes.subarray(r.start, r.start + r.length), r.start / 512);
  return { bytes, plain };
}

/** Which units of the ranges decrypt with K1 to the plaintext. */
function check(bytes: Uint8Array, plain: Uint8Array): void {
  const c = createSectorCipher(spec, K1);
  for (const r of RANGES) {
    const got = bytes.slice(r.start, r.start + r.length);
    c.decrypt(got, r.start / 512);
    assert.deepEqual(got, plain.subarray(r.start, r.start + r.length), `range at ${r.start}`);
  }
  // Outside the ranges nothing was touched.
  assert.deepEqual(bytes.subarray(0, 65536), plain.subarray(0, 65536));
}

/** A device that "dies" at write number `at`: the write lands only partly (`frac`), then throws. */
function dying(dev: MemoryDevice, at: number, frac: number): BlockDevice {
  let writes = 0;
  return {
    path: undefined,
    writable: true,
    size: () => dev.size(),
    read: (b, p) => dev.read(b, p),
    async write(b, p) {
      if (++writes === at) {
        const keep = Math.floor((b.length * frac) / 512) * 512;
        await dev.write(b.slice(0, keep), p);
        throw new Error('killed');
      }
      await dev.write(b, p);
    },
    truncate: (n) => dev.truncate(n),
    flush: () => dev.flush(),
    close: () => dev.close(),
  };
}

const ctx = () => makeJobContext(new AbortController().signal, new ProgressReporter());
const space = (dev: BlockDevice): RekeySpace => ({
  dev,
  ranges: RANGES,
  unit: 512,
  ivSector: (o) => o / 512,
  oldCipher: inlineDataCipher(createSectorCipher(spec, K0)),
  newCipher: inlineDataCipher(createSectorCipher(spec, K1)),
  buffer: new Uint8Array(ZONE),
});

describe('rekey data pass and journal', () => {
  it('slices zones by bytes and by ranges', () => {
    assert.deepEqual(nextZone(RANGES, 0, ZONE, 8), [{ start: 65536, length: ZONE }]);
    assert.deepEqual(nextZone(RANGES, 3 * 65536, ZONE, 8), [
      { start: 3 * 65536, length: 65536 },
      { start: 8 * 65536, length: 65536 },
    ]);
    assert.deepEqual(nextZone(RANGES, 3 * 65536, ZONE, 1), [{ start: 3 * 65536, length: 65536 }]);
    assert.deepEqual(nextZone(RANGES, 17 * 65536, ZONE, 8), []);
  });

  it('a crash at every write, torn or not, then a resume: every unit under the new key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iv-rekey-u-'));
    try {
      const header = new Uint8Array(8192).fill(9);
      let crashes = 0;
      for (let at = 1; ; at++) {
        const frac = [0, 0.5, 0.9][at % 3]!;
        const { bytes, plain } = image();
        const mem = new MemoryDevice(bytes);
        const path = join(dir, `j${at}`);
        const j1 = await createJournal(path, plan, header, header);
        let crashed = false;
        try {
          await runRotation(space(dying(mem, at, frac)), j1, ctx());
        } catch (e) {
          assert.equal((e as Error).message, 'killed');
          crashed = true;
        } finally {
          await j1.close();
        }
        const j2 = await openJournal(path);
        await runRotation(space(mem), j2, ctx());
        await j2.close();
        const out = new Uint8Array(FILE);
        await mem.read(out, 0);
        check(out, plain);
        if (!crashed) break;
        crashes++;
      }
      assert.ok(crashes >= 5, `crashed at ${crashes} writes`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ignores a torn or corrupted record and keeps the other slot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iv-rekey-u-'));
    try {
      const path = join(dir, 'j');
      const old = new Uint8Array(8192).fill(1);
      const neu = new Uint8Array(8192);
      neu[5000] = 7;
      const j = await createJournal(path, plan, old, neu);
      const rec = (seq: number) => ({
        seq,
        phase: 'rotating' as const,
        cursor: seq * 100,
        ranges: [{ start: seq * 512, length: 1024 }],
        fingerprints: new Uint8Array(32).fill(seq),
      });
      await j.write(rec(1));
      await j.write(rec(2));
      await j.close();
      let r = await openJournal(path);
      assert.equal(r.record?.seq, 2);
      assert.deepEqual(r.oldHeader, old);
      assert.deepEqual(r.newHeader, neu);
      await r.close();
      // Flip a byte of record 2 (slot 0): record 1 counts.
      const bytes = new Uint8Array(await readFile(path));
      const slot0 = findRecord(bytes, 2);
      bytes[slot0 + 30] = (bytes[slot0 + 30] ?? 0) ^ 1;
      await writeFile(path, bytes);
      r = await openJournal(path);
      assert.equal(r.record?.seq, 1);
      await r.close();
      // A damaged fixed part is refused, never guessed at.
      bytes[100] = (bytes[100] ?? 0) ^ 1;
      await writeFile(path, bytes);
      await assert.rejects(openJournal(path), /damaged/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Offset of the record with sequence number `seq` in a journal file. */
function findRecord(bytes: Uint8Array, seq: number): number {
  const magic = new TextEncoder().encode('IVRKREC1');
  for (let i = 0; i + 16 <= bytes.length; i += 4096) {
    if (magic.every((b, k) => bytes[i + k] === b)) {
      const s = new DataView(bytes.buffer, bytes.byteOffset + i + 8, 8).getBigUint64(0);
      if (Number(s) === seq) return i;
    }
  }
  throw new Error('record not found');
}
