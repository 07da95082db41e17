/**
 * LUKS2 layout rules across objects (docs/spec/luks2.md §1, §3), as cryptsetup's
 * `hdr_validate_segments`, `hdr_validate_config` and `hdr_validate_areas` apply them:
 * segment numbering and overlaps, the config sizes, and keyslot areas that stay inside the
 * keyslots area without overlapping each other or the two header copies.
 */
import { bad, toNumber, u64Field, type Obj } from './luks2-json.js';
import type { Luks2Keyslot, Luks2Segment } from './luks2-metadata.js';
import { isBackupSegment } from './luks2-objects.js';

const BINARY_HEADER = 4096;
/** Allowed metadata (binary + JSON) sizes: 16 KiB .. 4 MiB, powers of two (docs/spec/luks2.md §1). */
export const LUKS2_METADATA_SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096].map(
  (k) => k * 1024
);
const MAX_KEYSLOTS_SIZE = 128 * 1024 * 1024;

/** Segment ids, backup segments last, no gaps, no overlaps; only the last may be dynamic. */
function validateSegments(segments: Luks2Segment[]): void {
  const count = segments.length;
  if (count < 1) bad('the segments section is empty');
  let firstBackup = -1;
  for (const s of segments) {
    if (isBackupSegment(s)) {
      if (firstBackup < 0 || s.id < firstBackup) firstBackup = s.id;
    }
  }
  for (const s of segments) {
    if (!isBackupSegment(s) && firstBackup >= 0 && s.id >= firstBackup) {
      bad(`segment ${s.id} comes after backup segment ${firstBackup}`);
    }
  }
  if (firstBackup === 0) bad('there is no regular segment');
  if (firstBackup >= count) bad(`a gap in segment ids before backup segment ${firstBackup}`);
  const regular = firstBackup < 0 ? count : firstBackup;
  const byId = new Map(segments.map((s) => [s.id, s]));
  const ranges: { id: number; start: number; end: number }[] = [];
  for (let i = 0; i < regular; i++) {
    const s = byId.get(i);
    if (!s) bad(`a gap in segment ids at ${i}`);
    if (s.size === undefined && i !== regular - 1) {
      bad(`segment ${i} is dynamic but is not the last regular segment`);
    }
    ranges.push({
      id: i,
      start: s.offset,
      end: s.size === undefined ? Infinity : s.offset + s.size,
    });
  }
  for (const a of ranges) {
    for (const b of ranges) {
      if (a !== b && a.start >= b.start && a.start < b.end) {
        bad(`segments ${b.id} and ${a.id} overlap`);
      }
    }
  }
  for (let i = regular; i < count; i++) {
    if (!byId.has(i)) bad(`a gap in segment ids at ${i}`);
  }
}

/** Config sizes (docs/spec/luks2.md §1): returns json_size and keyslots_size. */
function validateConfig(
  config: Obj,
  segments: Luks2Segment[],
  hdrSize: number
): { jsonSize: number; keyslotsSize: number } {
  const jsonSize = toNumber(u64Field(config, 'json_size', 'config'));
  const keyslotsSize = toNumber(u64Field(config, 'keyslots_size', 'config'));
  const metadataSize = jsonSize + BINARY_HEADER;
  if (!LUKS2_METADATA_SIZES.includes(metadataSize)) {
    bad(`config.json_size ${jsonSize} does not give an allowed header size`);
  }
  if (jsonSize !== hdrSize - BINARY_HEADER) {
    bad(
      `config.json_size ${jsonSize} does not match the binary header (${hdrSize - BINARY_HEADER})`
    );
  }
  if (keyslotsSize % 4096 !== 0) bad('config.keyslots_size is not a multiple of 4096');
  if (keyslotsSize > MAX_KEYSLOTS_SIZE) bad('config.keyslots_size is larger than 128 MiB');
  let minOffset = Infinity;
  for (const s of segments) if (!isBackupSegment(s)) minOffset = Math.min(minOffset, s.offset);
  if (minOffset !== 0 && minOffset - keyslotsSize < 2 * metadataSize) {
    bad('config.keyslots_size does not fit between the headers and the data');
  }
  return { jsonSize, keyslotsSize };
}

/** Keyslot areas: past both header copies, inside the keyslots area, not overlapping. */
function validateAreas(keyslots: Luks2Keyslot[], metadataSize: number, keyslotsSize: number) {
  const end = 2 * metadataSize + keyslotsSize;
  for (const k of keyslots) {
    const a = k.area;
    if (a.offset < 2 * metadataSize) bad(`keyslot ${k.id} area lies in the header copies`);
    if (a.size === 0) bad(`keyslot ${k.id} area has size zero`);
    if (a.offset + a.size > end) bad(`keyslot ${k.id} area ends beyond the keyslots area`);
  }
  for (const k of keyslots) {
    for (const j of keyslots) {
      if (
        k !== j &&
        k.area.offset >= j.area.offset &&
        k.area.offset < j.area.offset + j.area.size
      ) {
        bad(`keyslot areas ${Math.min(k.id, j.id)} and ${Math.max(k.id, j.id)} overlap`);
      }
    }
  }
}

/**
 * Checks the layout of parsed metadata (cryptsetup's segment, config and area rules) and
 * returns json_size and keyslots_size.
 */
export function validateLayout(p: {
  config: Obj;
  segments: Luks2Segment[];
  keyslots: Luks2Keyslot[];
  hdrSize: number;
}): { jsonSize: number; keyslotsSize: number } {
  validateSegments(p.segments);
  const sizes = validateConfig(p.config, p.segments, p.hdrSize);
  validateAreas(p.keyslots, sizes.jsonSize + BINARY_HEADER, sizes.keyslotsSize);
  return sizes;
}

/** The online-reencryption requirement needs both backup segments (luks2_json_metadata.c). */
export function validateReencryptSegments(segments: Luks2Segment[], requirements: string[]): void {
  const online = requirements.some((r) =>
    ['online-reencrypt', 'online-reencrypt-v2', 'online-reencrypt-v3'].includes(r)
  );
  if (!online) return;
  for (const flag of ['backup-final', 'backup-previous']) {
    if (!segments.some((s) => s.flags.includes(flag))) bad(`the ${flag} segment is missing`);
  }
}
