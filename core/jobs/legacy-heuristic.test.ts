import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { patternBytes } from '../testing/bytes.js';
import { assessDecryptedSample, samplePlausibility, sectorTraits } from './legacy-heuristic.js';
import { MemoryImage } from './test-fakes.js';

const sector = (fill: (b: Uint8Array) => void) => {
  const b = new Uint8Array(512);
  fill(b);
  return b;
};
const text = () =>
  new TextEncoder()
    .encode(
      'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n'.repeat(8)
    )
    .subarray(0, 512);

test('random sectors are judged random; the verdict explains the --force case', () => {
  const sectors = Array.from({ length: 64 }, () => new Uint8Array(randomBytes(512)));
  const a = assessDecryptedSample(sectors);
  assert.equal(a.verdict, 'random');
  assert.equal(a.randomSectors, 64);
  assert.match(a.explanation, /wrong passphrase/);
  // xorshift output is statistically random too
  assert.equal(sectorTraits(patternBytes(512, 5)).random, true);
});

test('text, zeros and filesystem-like sectors are plausible', () => {
  assert.equal(sectorTraits(text()).random, false);
  assert.equal(sectorTraits(new Uint8Array(512)).random, false);
  const mbr = sector((b) => {
    b.set(randomBytes(446));
    b[510] = 0x55;
    b[511] = 0xaa;
  });
  assert.deepEqual(sectorTraits(mbr).signatures, ['MBR boot signature']);
  const ext = sector((b) => {
    b.set(randomBytes(512));
    b[56] = 0x53;
    b[57] = 0xef;
  });
  assert.ok(sectorTraits(ext).signatures.includes('ext2/3/4 superblock'));
  const ntfs = sector((b) => b.set(new TextEncoder().encode('NTFS    '), 3));
  assert.ok(sectorTraits(ntfs).signatures.includes('NTFS boot sector'));

  for (const sample of [[text()], [new Uint8Array(512)], [mbr], [ext]]) {
    assert.equal(assessDecryptedSample(sample).verdict, 'plausible');
  }
  // Mostly encrypted payload plus a few structured sectors is still plausible.
  const mixed = Array.from({ length: 60 }, () => new Uint8Array(randomBytes(512)));
  mixed.push(mbr, text(), new Uint8Array(512));
  const m = assessDecryptedSample(mixed);
  assert.equal(m.verdict, 'plausible');
  assert.deepEqual(m.signatures, ['MBR boot signature']);
  assert.equal(m.plausibleSectors, 3);
  // One chance match among fifty random sectors does not flip the verdict.
  const one = Array.from({ length: 63 }, () => new Uint8Array(randomBytes(512)));
  one.push(ext);
  assert.equal(assessDecryptedSample(one).verdict, 'random');
  assert.equal(assessDecryptedSample([]).verdict, 'no-data');
});

test('samplePlausibility samples spread allocated sectors and only those', async () => {
  const MiB = 1024 * 1024;
  const empty = new MemoryImage(16 * MiB);
  assert.equal((await samplePlausibility(empty.reader())).verdict, 'no-data');

  const noisy = new MemoryImage(16 * MiB);
  noisy.put(2 * MiB, randomBytes(4 * MiB));
  noisy.put(12 * MiB, randomBytes(MiB));
  const r = noisy.reader();
  const a = await samplePlausibility(r, { maxSectors: 32 });
  assert.equal(a.verdict, 'random');
  assert.equal(a.sampledSectors, 32);
  const reads = r.stats.reads.map((x) => x.offset);
  assert.ok(reads.every((o) => (o >= 2 * MiB && o < 6 * MiB) || (o >= 12 * MiB && o < 13 * MiB)));
  assert.ok(
    reads.some((o) => o >= 12 * MiB),
    'the sample reaches the last extent'
  );

  const fs = new MemoryImage(16 * MiB);
  fs.put(0, randomBytes(MiB));
  const sb = new Uint8Array(512);
  sb[56] = 0x53;
  sb[57] = 0xef;
  fs.put(1024, sb); // ext superblock magic at byte 1080
  const b = await samplePlausibility(fs.reader());
  assert.equal(b.verdict, 'plausible');
  assert.deepEqual(b.signatures, ['ext2/3/4 superblock']);
});
