/**
 * The image side of a master-key rotation (README "Master-key rotation"): where the LUKS
 * header lies (the qcow2 LUKS region, or the start of a raw LUKS file), which file ranges are
 * encrypted, and the "rotation in progress" state that keeps QEMU and cryptsetup out:
 * - the LUKS magic(s) of the header in the file are replaced by `IVRK\xba\xbe` (and the LUKS2
 *   secondary's by `KRVI\xba\xbe`): cryptsetup says "not a valid LUKS device", QEMU "Volume is
 *   not in LUKS format" (qcow2 v2) — neither reads data with a key it does not know;
 * - qcow2 v3 also gets incompatible feature bit 31, which QEMU refuses by name before looking
 *   at the encryption ("Unsupported qcow2 feature(s): Unknown incompatible feature: 80000000";
 *   docs/spec/qcow2.md §3).
 */
import { fail } from '../api/errors.js';
import { readExact, type BlockDevice } from '../io/block-device.js';
import type { HostRange } from '../formats/qcow2/data-clusters.js';
import { dataClusterRanges } from '../formats/qcow2/data-clusters.js';
import { QCOW_MAGIC, readQcow2Header } from '../formats/qcow2/header.js';

/** The incompatible feature bit set while a qcow2 v3 image is half rotated. */
export const REKEY_INCOMPAT_BIT = 0x80000000n;
const INCOMPAT_AT = 72;
const LUKS_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];
const LUKS2_SECONDARY = [0x53, 0x4b, 0x55, 0x4c, 0xba, 0xbe];
export const ROTATING_MAGIC = [0x49, 0x56, 0x52, 0x4b, 0xba, 0xbe];
const ROTATING_SECONDARY = [0x4b, 0x52, 0x56, 0x49, 0xba, 0xbe];

export interface RekeyTarget {
  kind: 'qcow2' | 'luks';
  /** qcow2 version (0 for raw). */
  qcow2Version: 0 | 2 | 3;
  /** The LUKS header region in the file (for raw: 0 .. payload offset, found on unlock). */
  region?: { offset: number; length: number };
  /** Encrypted file ranges (qcow2: data clusters; raw: filled in after unlocking). */
  ranges(): Promise<HostRange[]>;
}

/**
 * A view of `dev` on which our incompatible bit reads as clear, so that the qcow2 reader
 * (which refuses unknown bits, as QEMU does) can read a half-rotated image's metadata.
 */
export function maskedDevice(dev: BlockDevice): BlockDevice {
  return {
    path: dev.path,
    writable: false,
    size: () => dev.size(),
    async read(buf, position) {
      const n = await dev.read(buf, position);
      const at = INCOMPAT_AT + 4 - position; // the low word of the incompatible mask
      if (at >= 0 && at < n) buf[at] = (buf[at] as number) & 0x7f;
      return n;
    },
    write: () => Promise.reject(fail('INTERNAL', 'read-only view')),
    truncate: () => Promise.reject(fail('INTERNAL', 'read-only view')),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Finds the kind of image and, for qcow2, its LUKS region and data clusters. */
export async function rekeyTarget(dev: BlockDevice): Promise<RekeyTarget> {
  const head = await readExact(dev, Math.min(8, await dev.size()), 0, 'image header');
  const v = new DataView(head.buffer);
  if (head.length >= 4 && v.getUint32(0) === QCOW_MAGIC) {
    const view = maskedDevice(dev);
    const h = await readQcow2Header(view);
    if (h.cryptMethod === 0) throw fail('NOT_ENCRYPTED', 'The image is not encrypted');
    if (h.cryptMethod === 1 || !h.cryptoHeader) {
      throw fail(
        'UNSUPPORTED_FEATURE',
        'Legacy AES images have no LUKS header to rotate: migrate them to LUKS first'
      );
    }
    return {
      kind: 'qcow2',
      qcow2Version: h.version,
      region: h.cryptoHeader,
      ranges: () => dataClusterRanges(view, h),
    };
  }
  const m = [...head.subarray(0, 6)];
  const same = (a: number[]) => a.every((b, i) => b === m[i]);
  if (!same(LUKS_MAGIC) && !same(ROTATING_MAGIC)) {
    throw fail('NOT_ENCRYPTED', 'The image is neither qcow2+LUKS nor LUKS');
  }
  return { kind: 'luks', qcow2Version: 0, ranges: async () => [] };
}

/** Offsets of the LUKS magic(s) in a header region (LUKS2: primary and secondary). */
function magicPlaces(header: Uint8Array): { at: number; real: number[]; rotating: number[] }[] {
  const places = [{ at: 0, real: LUKS_MAGIC, rotating: ROTATING_MAGIC }];
  const dv = new DataView(header.buffer, header.byteOffset, header.length);
  if (header.length >= 16 && dv.getUint16(6) === 2) {
    const hdrSize = Number(dv.getBigUint64(8));
    if (hdrSize > 0 && hdrSize + 6 <= header.length) {
      places.push({ at: hdrSize, real: LUKS2_SECONDARY, rotating: ROTATING_SECONDARY });
    }
  }
  return places;
}

/** `header` with its magic(s) replaced by the rotating ones. */
export function rotatingHeader(header: Uint8Array): Uint8Array {
  const out = header.slice();
  for (const p of magicPlaces(header)) out.set(p.rotating, p.at);
  return out;
}

async function setQcow2Bit(dev: BlockDevice, on: boolean): Promise<void> {
  const buf = await readExact(dev, 8, INCOMPAT_AT, 'qcow2 incompatible features');
  const dv = new DataView(buf.buffer);
  const cur = dv.getBigUint64(0);
  const next = on ? cur | REKEY_INCOMPAT_BIT : cur & ~REKEY_INCOMPAT_BIT;
  if (next === cur) return;
  dv.setBigUint64(0, next);
  await dev.write(buf, INCOMPAT_AT);
}

/** Puts the image in the rotating state (idempotent): magic(s), then the qcow2 bit; flushed. */
export async function markRotating(
  dev: BlockDevice,
  t: RekeyTarget,
  region: { offset: number },
  oldHeader: Uint8Array
): Promise<void> {
  for (const p of magicPlaces(oldHeader)) {
    await dev.write(Uint8Array.from(p.rotating), region.offset + p.at);
  }
  if (t.qcow2Version === 3) await setQcow2Bit(dev, true);
  await dev.flush();
}

/**
 * Installs the new header and leaves the rotating state: the header with rotating magic(s)
 * (flush), then the real magic(s) (flush), then the qcow2 bit cleared (flush). A kill in
 * between leaves the rotating state and the journal, and `--resume` does this again.
 */
export async function installHeader(
  dev: BlockDevice,
  t: RekeyTarget,
  region: { offset: number },
  newHeader: Uint8Array
): Promise<void> {
  await dev.write(rotatingHeader(newHeader), region.offset);
  await dev.flush();
  for (const p of magicPlaces(newHeader)) {
    await dev.write(Uint8Array.from(p.real), region.offset + p.at);
  }
  await dev.flush();
  if (t.qcow2Version === 3) {
    await setQcow2Bit(dev, false);
    await dev.flush();
  }
}
