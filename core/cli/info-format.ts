/**
 * Renders `ImageInfo` for the terminal, and as JSON with the keys `qemu-img info
 * --output=json` uses where one exists (`format`, `virtual-size`, `actual-size`,
 * `cluster-size`, `encrypted`, `backing-filename`, `format-specific`, …).
 */
import type { EncryptionInfo, ImageInfo, KeyslotInfo } from '../api/types.js';

export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(v < 10 ? 2 : 1).replace(/\.?0+$/, '')} ${units[u]}`;
}

/** qemu-img's `encrypt` object: offsets in bytes, per-slot `iters` only when active. */
export function encryptJson(enc: EncryptionInfo): Record<string, unknown> {
  if (enc.format === 'aes') return { format: 'aes', insecure: true };
  const out: Record<string, unknown> = {
    format: 'luks',
    'cipher-alg': enc.cipherAlg,
    'cipher-mode': enc.cipherMode,
    'ivgen-alg': enc.ivgenAlg,
    'hash-alg': enc.hashAlg,
    uuid: enc.uuid,
    'payload-offset': enc.payloadOffset,
    'master-key-iters': enc.masterKeyIters,
    slots: enc.slots.map(slotJson),
  };
  if (enc.ivgenHashAlg) out['ivgen-hash-alg'] = enc.ivgenHashAlg;
  if (enc.version !== undefined) out.version = enc.version;
  if (enc.sectorSize !== undefined) out['sector-size'] = enc.sectorSize;
  if (enc.unsupportedReason) out.unsupported = enc.unsupportedReason;
  Object.assign(out, luksJson(enc));
  return out;
}

/** The LUKS header details beyond qemu-img's keys (LUKS2 as it is: docs/spec/luks2.md §1–§3). */
function luksJson(enc: EncryptionInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (enc.keyslotPositions !== undefined) out['keyslot-positions'] = enc.keyslotPositions;
  const h = enc.headerState;
  if (h) {
    const copy = (c: NonNullable<typeof h.secondary>) => ({
      status: c.status,
      offset: c.offset,
      ...(c.reason ? { reason: c.reason } : {}),
    });
    out['header-state'] = {
      used: h.used,
      primary: copy(h.primary),
      ...(h.secondary ? { secondary: copy(h.secondary) } : {}),
      'needs-repair': h.needsRepair,
      ...(h.message ? { message: h.message } : {}),
      ...(h.journal ? { journal: h.journal } : {}),
    };
  }
  if (enc.label) out.label = enc.label;
  if (enc.subsystem) out.subsystem = enc.subsystem;
  if (enc.headerSize !== undefined) out['header-size'] = enc.headerSize;
  if (enc.keyslotsSize !== undefined) out['keyslots-size'] = enc.keyslotsSize;
  if (enc.tokens) out.tokens = enc.tokens;
  if (enc.segments) {
    out.segments = enc.segments.map((s) => ({
      id: s.id,
      type: s.type,
      offset: s.offset,
      size: s.size,
      ...(s.encryption !== undefined ? { encryption: s.encryption } : {}),
      ...(s.sectorSize !== undefined ? { 'sector-size': s.sectorSize } : {}),
      ...(s.ivTweak !== undefined ? { 'iv-tweak': s.ivTweak } : {}),
      ...(s.flags ? { flags: s.flags } : {}),
    }));
  }
  if (enc.requirements && enc.requirements.length > 0) out.requirements = enc.requirements;
  if (enc.flags && enc.flags.length > 0) out.flags = enc.flags;
  if (enc.detachedHeader) out['detached-header'] = true;
  return out;
}

export function slotJson(s: KeyslotInfo): Record<string, unknown> {
  const o: Record<string, unknown> = { active: s.active };
  if (s.active) o.iters = s.iterations;
  o['key-offset'] = s.keyOffset * 512;
  if (s.active) o.stripes = s.stripes;
  if (s.kdf && s.kdf !== 'pbkdf2') o.kdf = s.kdf;
  if (s.memoryKiB !== undefined) o['memory-kib'] = s.memoryKiB;
  if (s.parallel !== undefined) o.parallel = s.parallel;
  if (s.hash !== undefined) o.hash = s.hash;
  if (s.cipher !== undefined) o.cipher = s.cipher;
  if (s.priority !== undefined) o.priority = s.priority;
  if (s.unusableReason !== undefined) o.unusable = s.unusableReason;
  return o;
}

export function infoJson(info: ImageInfo): Record<string, unknown> {
  const o: Record<string, unknown> = {
    filename: info.path,
    format: info.format,
    'virtual-size': info.virtualSize,
    'actual-size': info.actualSize,
    'file-size': info.fileSize,
  };
  if (info.clusterSize !== undefined) o['cluster-size'] = info.clusterSize;
  if (info.encrypted) o.encrypted = true;
  if (info.backingFile !== undefined) {
    o['backing-filename'] = info.backingFile;
    o['full-backing-filename'] = info.backingChain[0]?.path ?? info.backingFile;
    if (info.backingFormat) o['backing-filename-format'] = info.backingFormat;
  }
  if (info.dirty !== undefined) o['dirty-flag'] = info.dirty;
  if (info.snapshots.length > 0) {
    o.snapshots = info.snapshots.map((s) => ({
      id: s.id,
      name: s.name,
      'vm-state-size': s.vmStateSize,
      'date-sec': s.dateSeconds,
      'vm-clock-nsec': s.vmClockNs % 1e9,
      'vm-clock-sec': Math.floor(s.vmClockNs / 1e9),
    }));
  }
  if (info.format === 'qcow2' || info.format === 'qcow') {
    const data: Record<string, unknown> = {};
    if (info.compat) data.compat = info.compat;
    if (info.compressionType) data['compression-type'] = info.compressionType;
    if (info.refcountBits !== undefined) data['refcount-bits'] = info.refcountBits;
    if (info.encryption) data.encrypt = encryptJson(info.encryption);
    if (info.corrupt !== undefined) data.corrupt = info.corrupt;
    if (info.extendedL2 !== undefined) data['extended-l2'] = info.extendedL2;
    o['format-specific'] = { type: info.format, data };
  } else if (info.format === 'luks' && info.encryption) {
    o['format-specific'] = { type: 'luks', data: encryptJson(info.encryption) };
  }
  o['backing-chain'] = info.backingChain;
  o.warnings = info.warnings;
  return o;
}

function kdfText(s: KeyslotInfo): string {
  if (s.kdf === 'unknown') return 'unknown KDF';
  if (s.kdf && s.kdf !== 'pbkdf2') {
    return `${s.kdf}, time ${s.iterations}, memory ${s.memoryKiB ?? '?'} KiB, ${s.parallel ?? 1} lanes`;
  }
  return `pbkdf2${s.hash ? `-${s.hash}` : ''}, ${s.iterations} iterations`;
}

/** One line per keyslot; runs of inactive LUKS2 positions are folded into one line. */
export function slotLines(slots: KeyslotInfo[]): string[] {
  const lines: string[] = [];
  const many = slots.length > 8;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    if (!s.active) {
      let j = i;
      while (many && j + 1 < slots.length && !slots[j + 1]!.active) j++;
      lines.push(
        j > i ? `  slots ${s.slot}-${slots[j]!.slot}: inactive` : `  slot ${s.slot}: inactive`
      );
      i = j;
      continue;
    }
    const extra = s.cipher && many ? `, ${s.cipher}` : '';
    lines.push(
      `  slot ${s.slot}: ACTIVE  (${kdfText(s)}, ${s.stripes} stripes${extra}, key at sector ${s.keyOffset})`
    );
    if (s.unusableReason) lines.push(`    cannot be opened here: ${s.unusableReason}`);
  }
  return lines;
}

export function infoText(info: ImageInfo): string {
  const lines: string[] = [];
  const row = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') lines.push(`${(k + ':').padEnd(18)}${v}`);
  };
  row('image', info.path);
  row('format', info.format + (info.compat ? ` (compat ${info.compat})` : ''));
  row('virtual size', `${humanSize(info.virtualSize)} (${info.virtualSize} bytes)`);
  row('disk size', humanSize(info.actualSize));
  row('file size', humanSize(info.fileSize));
  if (info.inUse) {
    const who = info.inUse.holder ?? 'another process';
    const pid = info.inUse.pid !== undefined ? ` (PID ${info.inUse.pid})` : '';
    row('in use', `yes — ${who}${pid}${info.inUse.writer ? ', writing' : ''}`);
  }
  row('cluster size', info.clusterSize);
  row('refcount bits', info.refcountBits);
  row('compression', info.compressionType);
  if (info.extendedL2) row('extended L2', 'yes');
  row('backing file', info.backingFile);
  row('backing format', info.backingFormat);
  for (const b of info.backingChain) row('  chain', `${b.path} (${b.format})`);
  const enc = info.encryption;
  if (!info.encrypted || !enc) row('encrypted', 'no');
  else if (enc.format === 'aes') row('encrypted', 'yes — legacy AES-128-CBC (INSECURE)');
  else {
    row('encrypted', `yes — LUKS${enc.version ?? 1}`);
    row(
      'cipher',
      `${enc.cipherAlg}-${enc.cipherMode}-${enc.ivgenAlg}${enc.ivgenHashAlg ? ':' + enc.ivgenHashAlg : ''}`
    );
    row('hash', enc.hashAlg);
    row('uuid', enc.uuid);
    row('payload offset', enc.payloadOffset);
    row('mk iterations', enc.masterKeyIters);
    row('sector size', enc.sectorSize);
    const active = enc.slots.filter((s) => s.active).length;
    lines.push(`keyslots:         ${active} of ${enc.slots.length} active`);
    lines.push(...slotLines(enc.slots));
    lines.push(...luksTextLines(enc));
  }
  if (info.snapshots.length > 0) {
    lines.push(`snapshots:        ${info.snapshots.length}`);
    for (const s of info.snapshots) {
      lines.push(`  ${s.id}  ${s.name}  ${new Date(s.dateSeconds * 1000).toISOString()}`);
    }
  }
  for (const w of info.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** LUKS2 details for the terminal: header copies, tokens, segments, requirements. */
function luksTextLines(enc: EncryptionInfo): string[] {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${(k + ':').padEnd(18)}${v}`);
  const h = enc.headerState;
  if (h?.secondary) {
    const copy = (c: NonNullable<typeof h.secondary>) =>
      `${c.status}${c.reason ? ` (${c.reason})` : ''}`;
    row(
      'header copies',
      `primary ${copy(h.primary)}; secondary ${copy(h.secondary)}; using the ${h.used}`
    );
  }
  if (enc.headerSize !== undefined) {
    row(
      'header size',
      `${enc.headerSize} bytes per copy, keyslots area ${enc.keyslotsSize ?? '?'} bytes`
    );
  }
  if (enc.label) row('label', enc.label);
  if (enc.subsystem) row('subsystem', enc.subsystem);
  for (const t of enc.tokens ?? []) {
    row(`token ${t.id}`, `${t.type} (keyslots ${t.keyslots.join(', ') || 'none'})`);
  }
  for (const s of enc.segments ?? []) {
    const size = s.size === 'dynamic' ? 'to the end' : `${s.size} bytes`;
    const crypt = s.encryption ? `, ${s.encryption}, ${s.sectorSize}-byte sectors` : '';
    row(`segment ${s.id}`, `${s.type} at ${s.offset}, ${size}${crypt}`);
  }
  if (enc.requirements && enc.requirements.length > 0)
    row('requirements', enc.requirements.join(', '));
  if (enc.flags && enc.flags.length > 0) row('flags', enc.flags.join(', '));
  return lines;
}
