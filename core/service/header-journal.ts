/**
 * The header journal (`IMAGE.luks-journal`): before a header operation that rewrites bytes no
 * second copy protects (LUKS1 ↔ LUKS2 conversion moves every keyslot; a repair rewrites a
 * copy), the bytes about to be overwritten are saved beside the image and made durable (file
 * and folder fsynced); then the writes go to the image one by one, each flushed; then the
 * journal is removed. A crash at any point leaves either an untouched image with a journal that
 * is incomplete (detected by its checksum and discarded) or a journal that `header repair`
 * rolls back. While a complete journal exists, header writes are refused (NEEDS_REPAIR).
 *
 * Format: "IVLUKSJ1", u32 BE length of a JSON description, the JSON ({ version, operation,
 * container, image, createdAt, ranges: [{ offset, length }] }), the saved bytes of each range in order,
 * and a SHA-256 of everything before it. It holds header bytes only (what a header backup
 * holds), never a passphrase or a key, and is created with mode 0600.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail } from '../api/errors.js';
import { hash } from '../crypto/hash.js';
import type { HeaderIO } from '../formats/encryption.js';
import type { HeaderWrite } from '../formats/luks/header-repair.js';
import { fsyncPath } from '../jobs/atomic-output.js';
import { readSmallFile } from '../io/small-file.js';

const MAGIC = new TextEncoder().encode('IVLUKSJ1');
/** Upper bound on a journal (the largest LUKS2 keyslots area plus headers, and then some). */
const MAX_JOURNAL = 160 * 1024 * 1024;

export interface HeaderJournal {
  operation: string;
  /**
   * `luks`: offsets are file offsets of a raw LUKS image (rolled back without reading the
   * possibly half-written header); `qcow2`: offsets inside the qcow2 LUKS region.
   */
  container: 'luks' | 'qcow2';
  image: string;
  createdAt: string;
  ranges: { offset: number; bytes: Uint8Array }[];
}

/** The journal path of an image. */
export function headerJournalPath(image: string): string {
  return `${image}.luks-journal`;
}

function encode(j: HeaderJournal): Uint8Array {
  const meta = new TextEncoder().encode(
    JSON.stringify({
      version: 1,
      operation: j.operation,
      container: j.container,
      image: j.image,
      createdAt: j.createdAt,
      ranges: j.ranges.map((r) => ({ offset: r.offset, length: r.bytes.length })),
    })
  );
  const dataLen = j.ranges.reduce((n, r) => n + r.bytes.length, 0);
  const out = new Uint8Array(MAGIC.length + 4 + meta.length + dataLen + 32);
  out.set(MAGIC);
  new DataView(out.buffer).setUint32(MAGIC.length, meta.length);
  let pos = MAGIC.length + 4;
  out.set(meta, pos);
  pos += meta.length;
  for (const r of j.ranges) {
    out.set(r.bytes, pos);
    pos += r.bytes.length;
  }
  out.set(hash('sha256', out.subarray(0, pos)), pos);
  return out;
}

/** Parses a journal; undefined when it is incomplete or damaged (it was never committed). */
function decode(buf: Uint8Array): HeaderJournal | undefined {
  if (buf.length < MAGIC.length + 4 + 32 || !MAGIC.every((b, i) => buf[i] === b)) return undefined;
  const body = buf.subarray(0, buf.length - 32);
  const sum = hash('sha256', body);
  if (!sum.every((b, i) => b === buf[body.length + i])) return undefined;
  const metaLen = new DataView(buf.buffer, buf.byteOffset).getUint32(MAGIC.length);
  let pos = MAGIC.length + 4;
  if (pos + metaLen > body.length) return undefined;
  let meta: {
    operation: string;
    container?: string;
    image: string;
    createdAt: string;
    ranges: { offset: number; length: number }[];
  };
  try {
    meta = JSON.parse(new TextDecoder().decode(body.subarray(pos, pos + metaLen)));
  } catch {
    return undefined;
  }
  pos += metaLen;
  const ranges: HeaderJournal['ranges'] = [];
  for (const r of meta.ranges ?? []) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.length < 0) {
      return undefined;
    }
    if (pos + r.length > body.length) return undefined;
    ranges.push({ offset: r.offset, bytes: body.slice(pos, pos + r.length) });
    pos += r.length;
  }
  if (pos !== body.length) return undefined;
  return {
    operation: String(meta.operation),
    container: meta.container === 'qcow2' ? 'qcow2' : 'luks',
    image: String(meta.image),
    createdAt: String(meta.createdAt),
    ranges,
  };
}

function readWhole(path: string): Promise<Uint8Array | undefined> {
  return readSmallFile(path, MAX_JOURNAL, 'a header journal', true);
}

/**
 * The committed journal of `image`, if any. An incomplete one (a crash before the image was
 * touched) is removed and reported as absent.
 */
export async function readHeaderJournal(image: string): Promise<HeaderJournal | undefined> {
  const path = headerJournalPath(image);
  await rm(`${path}.tmp`, { force: true });
  const buf = await readWhole(path);
  if (!buf) return undefined;
  const j = decode(buf);
  if (!j) await rm(path, { force: true });
  return j;
}

/** Whether `image` has a committed journal (without removing incomplete ones). */
export async function hasHeaderJournal(image: string): Promise<boolean> {
  const buf = await readWhole(headerJournalPath(image));
  return buf !== undefined && decode(buf) !== undefined;
}

async function writeJournal(image: string, j: HeaderJournal): Promise<void> {
  const path = headerJournalPath(image);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(encode(j));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncPath(dirname(path), true);
}

async function removeJournal(image: string): Promise<void> {
  await rm(headerJournalPath(image), { force: true });
  await fsyncPath(dirname(image), true);
}

/**
 * Applies `writes` to `io` in order (each flushed) under a journal of the bytes they replace.
 * Refuses (NEEDS_REPAIR) when a committed journal already exists.
 */
export async function applyJournaled(
  image: string,
  io: HeaderIO,
  operation: string,
  writes: HeaderWrite[],
  container: HeaderJournal['container'] = 'luks'
): Promise<void> {
  if (await hasHeaderJournal(image)) {
    throw fail(
      'NEEDS_REPAIR',
      'An interrupted header operation must be rolled back first (image-vault header repair)'
    );
  }
  const ranges = [];
  for (const w of writes) {
    const bytes = new Uint8Array(w.bytes.length);
    await io.read(bytes, w.offset);
    ranges.push({ offset: w.offset, bytes });
  }
  await writeJournal(image, {
    operation,
    container,
    image,
    createdAt: new Date().toISOString(),
    ranges,
  });
  for (const w of writes) {
    await io.write(w.bytes, w.offset);
    await io.flush();
  }
  await removeJournal(image);
}

/** Writes a journal's saved bytes back (rolling its operation back), then removes it. */
export async function rollBack(image: string, io: HeaderIO, j: HeaderJournal): Promise<void> {
  for (const r of j.ranges) {
    if (r.offset < 0 || r.offset + r.bytes.length > io.length) {
      throw fail('CORRUPT', 'The header journal does not fit this image');
    }
  }
  for (const r of j.ranges) await io.write(r.bytes, r.offset);
  await io.flush();
  await removeJournal(image);
}
