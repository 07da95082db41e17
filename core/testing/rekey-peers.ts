/**
 * Test-only helpers for master-key rotation (README "Master-key rotation"): volume keys as
 * cryptsetup dumps them, the encrypted units of an image, a per-unit judgement of which key
 * decrypts each, and the kill -9 / --resume loop.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDmCipher } from '../crypto/cipher-spec.js';
import { createSectorCipher } from '../crypto/sector-cipher.js';
import { dataClusterRanges, type HostRange } from '../formats/qcow2/data-clusters.js';
import { readQcow2Header } from '../formats/qcow2/header.js';
import { MemoryDevice } from '../io/memory-device.js';
import { spawn } from 'node:child_process';
import { CLI_BIN } from './cli.js';
import { runOk } from './peers.js';

/** The master key of a LUKS header (a raw LUKS file, or a qcow2's LUKS region), from cryptsetup. */
export async function dumpVolumeKey(
  dir: string,
  image: string,
  pwFile: string,
  tag: string
): Promise<Uint8Array> {
  const bytes = await readFile(image);
  let header = image;
  if (bytes.readUInt32BE(0) === 0x514649fb) {
    const h = await readQcow2Header(new MemoryDevice(bytes, false));
    const r = h.cryptoHeader!;
    header = join(dir, `${tag}.hdr`);
    // cryptsetup wants the payload to lie inside the file: pad past it.
    const out = new Uint8Array(r.length + 1024 * 1024);
    out.set(bytes.subarray(r.offset, r.offset + r.length));
    await writeFile(header, out);
  }
  const vk = join(dir, `${tag}.vk`);
  await runOk('cryptsetup', [
    'luksDump',
    '--batch-mode',
    '--dump-volume-key',
    '--volume-key-file',
    vk,
    '--key-file',
    pwFile,
    header,
  ]);
  return new Uint8Array(await readFile(vk));
}

/** Data clusters of a qcow2 file (active and snapshots), by our own walker. */
export async function qcow2DataRanges(image: string): Promise<HostRange[]> {
  const dev = new MemoryDevice(await readFile(image), false);
  return dataClusterRanges(dev, await readQcow2Header(dev));
}

export interface UnitVerdict {
  units: number;
  /** Units whose plaintext under the new key equals the old plaintext. */
  newKeyMatches: number;
  /** Units the old key still decrypts to the old plaintext (must be 0). */
  oldKeyMatches: number;
}

/**
 * Decrypts every unit of `ranges` in the file before (old key) and after (both keys): the new
 * key must give the old plaintext and the old key must give it nowhere.
 */
export async function judgeUnits(
  before: Buffer,
  after: Buffer,
  ranges: HostRange[],
  keys: { old: Uint8Array; new: Uint8Array },
  o: { unit: number; ivOf: (offset: number) => number; cipher?: string }
): Promise<UnitVerdict> {
  const c = o.cipher ?? 'aes-xts-plain64';
  const oldC = createSectorCipher(parseDmCipher(c, keys.old.length), keys.old, o.unit);
  const newC = createSectorCipher(parseDmCipher(c, keys.new.length), keys.new, o.unit);
  const v: UnitVerdict = { units: 0, newKeyMatches: 0, oldKeyMatches: 0 };
  for (const r of ranges) {
    for (let pos = r.start; pos < r.start + r.length; pos += o.unit) {
      const plain = new Uint8Array(before.subarray(pos, pos + o.unit));
      oldC.decrypt(plain, o.ivOf(pos));
      const viaNew = new Uint8Array(after.subarray(pos, pos + o.unit));
      newC.decrypt(viaNew, o.ivOf(pos));
      const viaOld = new Uint8Array(after.subarray(pos, pos + o.unit));
      oldC.decrypt(viaOld, o.ivOf(pos));
      v.units++;
      if (Buffer.compare(plain, viaNew) === 0) v.newKeyMatches++;
      if (Buffer.compare(plain, viaOld) === 0) v.oldKeyMatches++;
    }
  }
  oldC.dispose();
  newC.dispose();
  return v;
}

export interface KillReport {
  /** Runs that died by SIGKILL in the middle of a rotation (a journal was left). */
  kills: number;
  /** Runs killed with no journal on disk: before they wrote anything, or just after finishing. */
  earlyKills: number;
  /** Checks run on the image while it was half rotated. */
  halfChecks: number;
}

/**
 * Runs `rekey ARGS` killing it with SIGKILL at a random moment (`runCli`), then
 * `rekey --resume`, also killed at random, `kills` times in all; then a last `--resume`
 * that must finish. `whileHalf` runs after every kill that left a journal behind.
 */
export async function rekeyWithKills(
  image: string,
  args: string[],
  o: { kills: number; maxDelayMs: number; whileHalf?: () => Promise<void> }
): Promise<KillReport> {
  const rep: KillReport = { kills: 0, earlyKills: 0, halfChecks: 0 };
  let started = false;
  // The longest delay after the data pass began; shrunk to what a finished run's data pass
  // actually took, so that a fast machine, where a small image rotates in tens of
  // milliseconds, is still hit inside the rotation rather than after it.
  let dataWindowMs = o.maxDelayMs / 5;
  for (let attempt = 0; rep.kills < o.kills && attempt < o.kills * 8; attempt++) {
    // Mostly inside the data pass; one run in four at any moment from the start (which also
    // hits key derivation, the journal's creation and the header's installation).
    const afterData = Math.random() < 0.75;
    const afterMs = Math.floor(Math.random() * (afterData ? dataWindowMs : o.maxDelayMs));
    const resume: string[] = started ? ['--resume'] : [];
    const r = await runCli(['rekey', ...args, ...resume, image], { afterMs, afterData });
    const journal = await readFile(`${image}.rekey-journal`).then(
      () => true,
      () => false
    );
    if (r.signal === 'SIGKILL') {
      // No journal after a kill: nothing had begun, or a `--resume` had just finished (journal
      // removed) when the kill came. Either way the next run starts a new rotation.
      if (!journal) {
        rep.earlyKills++;
        started = false;
      }
      if (journal) {
        rep.kills++;
        started = true;
        if (o.whileHalf) {
          await o.whileHalf();
          rep.halfChecks++;
        }
      }
      continue;
    }
    // It finished before the kill came: that rotation is done; the next run starts a new one
    // (a fresh master key again), aimed earlier.
    assert.equal(r.code, 0, `rekey ${resume.join(' ')} failed: ${r.stderr}`);
    assert.equal(journal, false, 'a finished rotation leaves no journal');
    started = false;
    if (r.dataMs !== null) dataWindowMs = Math.max(1, Math.min(dataWindowMs, r.dataMs));
  }
  if (!started) return rep;
  const last = await runCli(['rekey', ...args, '--resume', image]);
  assert.equal(last.code, 0, `final rekey failed: ${last.stderr}`);
  return rep;
}

/**
 * Runs the CLI as a child (`--progress=json` is added). With `kill`, SIGKILLs it: after
 * `afterMs` from the start, or, with `afterData`, that long after the data pass began (its first
 * "rekeying" progress line), so that kills land inside the rotation whatever the KDF costs.
 */
export function runCli(
  argv: string[],
  kill?: { afterMs: number; afterData: boolean }
): Promise<{
  code: number;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Milliseconds from the data pass's first progress line to the exit, if it got that far. */
  dataMs: number | null;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...argv, '--progress=json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dataAt: number | null = null;
    const arm = () => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), kill!.afterMs);
    };
    if (kill && !kill.afterData) arm();
    child.stdout.on('data', (d: Buffer) => {
      if (dataAt === null && d.toString().includes('"rekeying"')) dataAt = Date.now();
      if (kill?.afterData && dataAt !== null) arm();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        signal,
        stderr,
        dataMs: dataAt === null ? null : Date.now() - dataAt,
      });
    });
  });
}
