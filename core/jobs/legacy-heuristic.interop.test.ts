/**
 * The wrong-passphrase heuristic on real legacy AES qcow2 images made by qemu-img/qemu-io
 * 7.2, decrypted by a minimal qcow2 reader in this file (AES-128-CBC, key = passphrase
 * zero-padded to 16 bytes, IV = LE64(guest sector): docs/spec/legacy-aes.md §1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Extent, GuestReader } from '../formats/image.js';
import { peerTestOptions, qemuSecret, runOk, scratchDir } from '../testing/peers.js';
import { samplePlausibility } from './legacy-heuristic.js';

/** A read-only GuestReader over a small uncompressed legacy-AES qcow2 file held in memory. */
function legacyAesReader(file: Uint8Array, passphrase: string): GuestReader {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assert.equal(v.getUint32(0), 0x514649fb);
  assert.equal(v.getUint32(32), 1, 'crypt_method must be AES');
  const clusterBits = v.getUint32(20);
  const cluster = 2 ** clusterBits;
  const size = Number(v.getBigUint64(24));
  const l1Size = v.getUint32(36);
  const l1Offset = Number(v.getBigUint64(40));
  const mask = 0x00fffffffffffe00n;
  const key = new Uint8Array(16);
  key.set(new TextEncoder().encode(passphrase).subarray(0, 16));
  const l2PerCluster = cluster / 8;

  const hostCluster = (guest: number): number => {
    const idx = Math.floor(guest / cluster);
    const l1i = Math.floor(idx / l2PerCluster);
    if (l1i >= l1Size) return 0;
    const l2 = Number(v.getBigUint64(l1Offset + l1i * 8) & mask);
    if (l2 === 0) return 0;
    const entry = v.getBigUint64(l2 + (idx % l2PerCluster) * 8);
    assert.equal(entry & (1n << 62n), 0n, 'compressed clusters are not expected');
    return Number(entry & mask);
  };

  return {
    format: 'qcow2',
    virtualSize: size,
    granularity: cluster,
    async read(buf, off) {
      for (let p = 0; p < buf.length; p += 512) {
        const guest = off + p;
        const host = hostCluster(guest);
        if (host === 0) {
          buf.fill(0, p, p + 512);
          continue;
        }
        const at = host + (guest % cluster);
        const iv = new Uint8Array(16);
        new DataView(iv.buffer).setBigUint64(0, BigInt(guest / 512), true);
        const d = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
        const plain = Buffer.concat([d.update(file.subarray(at, at + 512)), d.final()]);
        buf.set(plain, p);
      }
    },
    async map(off, len) {
      const out: Extent[] = [];
      for (let p = off; p < off + len; p += cluster) {
        const kind = hostCluster(p) === 0 ? 'zero' : 'data';
        const l = Math.min(cluster, off + len - p);
        const last = out[out.length - 1];
        if (last && last.kind === kind) last.length += l;
        else out.push({ offset: p, length: l, kind });
      }
      return out;
    },
    async close() {},
  };
}

/** An 8 MiB raw ext4 filesystem by mkfs.ext4 (e2fsprogs), or an ext-like stand-in without it. */
async function makeExtLikeRaw(path: string): Promise<void> {
  await runOk('truncate', ['-s', '8M', path]);
  for (const mkfs of ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4']) {
    try {
      await access(mkfs);
    } catch {
      continue;
    }
    await runOk(mkfs, ['-q', '-F', path]);
    return;
  }
  const fs = new Uint8Array(8 * 1024 * 1024);
  fs.set([0x53, 0xef], 1080);
  fs.set(new TextEncoder().encode('lost+found\0'.repeat(40)), 1024 * 1024);
  await writeFile(path, fs);
}

test(
  'legacy AES images: right passphrase plausible, wrong one random',
  peerTestOptions('qemu-img', 'qemu-io'),
  async () => {
    const { dir, cleanup } = await scratchDir();
    try {
      const secret = await qemuSecret(dir, 's', 'abc123');
      const img = join(dir, 'aes.qcow2');
      await runOk('qemu-img', [
        'create',
        '-q',
        '-f',
        'qcow2',
        ...secret,
        '-o',
        'encrypt.format=aes,encrypt.key-secret=s',
        img,
        '16M',
      ]);
      const opts = `driver=qcow2,file.filename=${img},encrypt.key-secret=s`;
      await runOk('qemu-io', [
        ...secret,
        '--image-opts',
        opts,
        '-c',
        'write -P 0x42 1M 1k',
        '-c',
        'write -P 0x17 5M 64k',
        '-c',
        'write -P 0x00 9M 128k',
      ]);
      const bytes = new Uint8Array(await readFile(img));

      const right = legacyAesReader(bytes, 'abc123');
      const check = new Uint8Array(1024);
      await right.read(check, 1024 * 1024);
      assert.ok(
        check.every((b) => b === 0x42),
        'the test reader decrypts QEMU data'
      );

      const good = await samplePlausibility(right);
      assert.equal(good.verdict, 'plausible');
      assert.equal(good.randomSectors, 0);
      assert.ok(good.sampledSectors >= 32);

      const bad = await samplePlausibility(legacyAesReader(bytes, 'abc124'));
      assert.equal(bad.verdict, 'random');
      assert.equal(bad.sampledSectors, good.sampledSectors);

      // An ext4 filesystem converted by qemu-img into a legacy AES image.
      const raw = join(dir, 'fs.raw');
      await makeExtLikeRaw(raw);
      const fsImg = join(dir, 'fs.qcow2');
      await runOk('qemu-img', [
        'convert',
        ...secret,
        '-O',
        'qcow2',
        '-o',
        'encrypt.format=aes,encrypt.key-secret=s',
        raw,
        fsImg,
      ]);
      const fsBytes = new Uint8Array(await readFile(fsImg));
      const fsGood = await samplePlausibility(legacyAesReader(fsBytes, 'abc123'));
      assert.equal(fsGood.verdict, 'plausible');
      assert.ok(fsGood.signatures.includes('ext2/3/4 superblock'), fsGood.signatures.join());
      const fsBad = await samplePlausibility(legacyAesReader(fsBytes, 'wrong-passphrase'));
      assert.equal(fsBad.verdict, 'random');
    } finally {
      await cleanup();
    }
  }
);
