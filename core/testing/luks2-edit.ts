/**
 * Test-only: edit a cryptsetup-made LUKS2 image in place the way cryptsetup's own
 * `tests/generators` do — replace the JSON area of one or both header copies (checksums
 * recomputed, salts and seqids kept), or change binary header fields — and ask cryptsetup for
 * its verdict without letting it repair anything (`--disable-locks` turns its automatic
 * header recovery off).
 */
import { open, readFile } from 'node:fs/promises';
import { hash } from '../crypto/hash.js';
import { run } from './peers.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Copy = 'primary' | 'secondary' | 'both';

const BIN = 4096;

async function withFile<T>(path: string, fn: (fh: Awaited<ReturnType<typeof open>>) => Promise<T>) {
  const fh = await open(path, 'r+');
  try {
    return await fn(fh);
  } finally {
    await fh.close();
  }
}

async function readAt(fh: Awaited<ReturnType<typeof open>>, len: number, pos: number) {
  const buf = Buffer.alloc(len);
  await fh.read(buf, 0, len, pos);
  return buf;
}

/** hdr_size from the primary binary header. */
export async function luks2HdrSize(path: string): Promise<number> {
  return withFile(path, async (fh) => Number((await readAt(fh, BIN, 0)).readBigUInt64BE(8)));
}

/** The JSON metadata of the primary copy. */
export async function readLuks2Json(path: string): Promise<Json> {
  return withFile(path, async (fh) => {
    const hdr = await readAt(fh, BIN, 0);
    const size = Number(hdr.readBigUInt64BE(8));
    const area = await readAt(fh, size - BIN, BIN);
    return JSON.parse(area.subarray(0, area.indexOf(0)).toString('utf8')) as Json;
  });
}

function offsetsOf(which: Copy, hdrSize: number): number[] {
  return which === 'both' ? [0, hdrSize] : which === 'primary' ? [0] : [hdrSize];
}

function checksum(bin: Buffer, area: Buffer): Buffer {
  const zeroed = Buffer.from(bin);
  zeroed.fill(0, 448, 512);
  return Buffer.from(hash('sha256', zeroed, area));
}

/**
 * Replaces the JSON area of `which` copies with `text` (a string is zero-padded; a Buffer is
 * written as the whole area) and recomputes their checksums.
 */
export async function writeLuks2JsonArea(
  path: string,
  text: string | Buffer,
  which: Copy = 'both'
): Promise<void> {
  const hdrSize = await luks2HdrSize(path);
  await withFile(path, async (fh) => {
    for (const off of offsetsOf(which, hdrSize)) {
      const area = Buffer.alloc(hdrSize - BIN);
      if (typeof text === 'string') area.write(text, 'utf8');
      else text.copy(area);
      const bin = await readAt(fh, BIN, off);
      checksum(bin, area).copy(bin, 448);
      await fh.write(bin, 0, BIN, off);
      await fh.write(area, 0, area.length, off + BIN);
    }
  });
}

/** Reads, edits and writes back the JSON of both copies (checksums recomputed). */
export async function editLuks2Json(
  path: string,
  edit: (j: Json) => void,
  which: Copy = 'both'
): Promise<void> {
  const j = await readLuks2Json(path);
  edit(j);
  await writeLuks2JsonArea(path, JSON.stringify(j), which);
}

/** Edits the binary header of `which` copies; the checksum is recomputed when `rechecksum`. */
export async function editLuks2Binary(
  path: string,
  which: Copy,
  edit: (bin: Buffer) => void,
  rechecksum = true
): Promise<void> {
  const hdrSize = await luks2HdrSize(path);
  await withFile(path, async (fh) => {
    for (const off of offsetsOf(which, hdrSize)) {
      const bin = await readAt(fh, BIN, off);
      edit(bin);
      if (rechecksum) checksum(bin, await readAt(fh, hdrSize - BIN, off + BIN)).copy(bin, 448);
      await fh.write(bin, 0, BIN, off);
    }
  });
}

/** Damages the stored checksum of `which` copies (one flipped byte). */
export function breakLuks2Checksum(path: string, which: Copy): Promise<void> {
  return editLuks2Binary(path, which, (b) => (b[448] = (b[448] ?? 0) ^ 0xff), false);
}

export interface CryptsetupVerdict {
  isLuks: boolean;
  dump: boolean;
  /** `open --test-passphrase` with the key file. */
  opens: boolean;
  dumpText: string;
}

/** cryptsetup's verdict on `path`, never writing to it (`--disable-locks`: no auto-recovery). */
export async function cryptsetupVerdict(path: string, keyFile: string): Promise<CryptsetupVerdict> {
  const isLuks = await run('cryptsetup', ['isLuks', '--disable-locks', path]);
  const dump = await run('cryptsetup', ['luksDump', '--disable-locks', path]);
  const opens = await run('cryptsetup', [
    'open',
    '--test-passphrase',
    '--disable-locks',
    '--key-file',
    keyFile,
    path,
  ]);
  return {
    isLuks: isLuks.code === 0,
    dump: dump.code === 0,
    opens: opens.code === 0,
    dumpText: dump.stdout,
  };
}

/** sha256 of a whole (small) file, to prove an operation left it unchanged. */
export async function fileSha256(path: string): Promise<string> {
  return Buffer.from(hash('sha256', await readFile(path))).toString('hex');
}
