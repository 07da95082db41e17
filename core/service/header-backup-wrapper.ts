/**
 * The header backup of a qcow2+LUKS image (docs/decisions.md "Header backup and restore"): no
 * tool backs up the LUKS region inside a qcow2 file (docs/spec/qcow2-luks.md §1–2), so we wrap
 * the region's bytes in a small self-describing file that records which image they belong to.
 *
 * Layout (all integers big-endian):
 *
 * | offset   | size | content                                                        |
 * | -------- | ---- | -------------------------------------------------------------- |
 * | 0        | 8    | magic `IVQ2LUKS`                                               |
 * | 8        | 4    | format version = 1                                             |
 * | 12       | 4    | N = length of the JSON description                             |
 * | 16       | N    | JSON (UTF-8), {@link QcowLuksBackupMeta}                        |
 * | 16+N     | L    | the region bytes, L = `region.length` (the extension's length) |
 * | 16+N+L   | 32   | SHA-256 of every byte before it                                |
 *
 * It holds header bytes only (what `cryptsetup luksHeaderBackup` holds for a raw device): no
 * passphrase and no key; it is written with mode 0400.
 */
import { fail } from '../api/errors.js';
import { hash } from '../crypto/hash.js';
import type { LuksIdentity } from '../formats/luks/header-backup.js';

export const WRAPPER_MAGIC = 'IVQ2LUKS';
const VERSION = 1;
/** Largest wrapper we read (a LUKS1 region is at most ~4 MiB; LUKS2 regions up to 144 MiB). */
export const MAX_WRAPPER_BYTES = 160 * 1024 * 1024;
const MAX_JSON = 64 * 1024;

/** What the wrapper says about the image it was taken from. */
export interface QcowLuksBackupMeta {
  kind: 'image-vault qcow2+LUKS header backup';
  createdAt: string;
  qcow2: { version: number; virtualSize: number; clusterSize: number };
  /** The LUKS region: extension 0x0537BE77's offset and length. */
  region: { offset: number; length: number };
  /** The LUKS header in the region; null when it could not be read (a `.bak` of a damaged one). */
  luks: Omit<LuksIdentity, 'span' | 'dataOffset'> | null;
}

export interface QcowLuksBackup {
  meta: QcowLuksBackupMeta;
  region: Uint8Array;
}

/** Whether `bytes` start with the wrapper's magic. */
export function isWrapper(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === WRAPPER_MAGIC
  );
}

/** Serialises a wrapper. */
export function encodeWrapper(b: QcowLuksBackup): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(b.meta));
  if (b.region.length !== b.meta.region.length) {
    throw fail('INTERNAL', 'The region bytes do not match the recorded region length');
  }
  const out = new Uint8Array(16 + json.length + b.region.length + 32);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(WRAPPER_MAGIC));
  dv.setUint32(8, VERSION);
  dv.setUint32(12, json.length);
  out.set(json, 16);
  out.set(b.region, 16 + json.length);
  const end = out.length - 32;
  out.set(hash('sha256', out.subarray(0, end)), end);
  return out;
}

const bad = (why: string) => fail('CORRUPT', `The qcow2+LUKS header backup is damaged: ${why}`);

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and checks a wrapper (magic, version, checksum, description). */
export function decodeWrapper(bytes: Uint8Array): QcowLuksBackup {
  if (!isWrapper(bytes)) throw bad('no IVQ2LUKS magic');
  if (bytes.length < 16 + 32) throw bad('too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8);
  if (version !== VERSION) {
    throw fail('UNSUPPORTED_FEATURE', `Header backup format version ${version} is not supported`);
  }
  const end = bytes.length - 32;
  const sum = hash('sha256', bytes.subarray(0, end));
  if (!sum.every((b, i) => b === bytes[end + i])) throw bad('checksum mismatch');
  const n = dv.getUint32(12);
  if (n > MAX_JSON || 16 + n > end) throw bad('description length out of range');
  let meta: QcowLuksBackupMeta;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + n)));
  } catch {
    throw bad('the description is not JSON');
  }
  const r = meta?.region;
  const q = meta?.qcow2;
  if (
    meta?.kind !== 'image-vault qcow2+LUKS header backup' ||
    !r ||
    !q ||
    ![r.offset, r.length, q.virtualSize, q.clusterSize, q.version].every(isCount)
  ) {
    throw bad('the description lacks the image identity');
  }
  if (16 + n + r.length !== end) throw bad('the region length does not match the file');
  return { meta, region: bytes.slice(16 + n, end) };
}
