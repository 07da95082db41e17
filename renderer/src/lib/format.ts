/** Plain-words formatting of sizes, speeds and durations. */
import type { EncryptionInfo, ImageInfo } from '../../../core/api/index.js';

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

/** Seconds → "about 3 min" / "12 s". */
export function formatDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 1) return 'under a second';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function formatSpeed(bps: number): string {
  return bps > 0 ? `${formatBytes(bps)}/s` : '—';
}

/** "qcow2 (version 3)", "raw LUKS", … */
export function describeFormat(info: Pick<ImageInfo, 'format' | 'compat'>): string {
  switch (info.format) {
    case 'qcow2':
      return info.compat === '0.10' ? 'qcow2 (version 2)' : 'qcow2 (version 3)';
    case 'qcow':
      return 'qcow (version 1, legacy)';
    case 'luks':
      return 'raw LUKS volume';
    default:
      return 'raw disk image';
  }
}

/** "LUKS1 · AES-256 XTS · plain64 IVs · SHA-256" in plain words. */
export function describeCipher(enc: EncryptionInfo): string {
  const parts: string[] = [];
  if (enc.cipherAlg) parts.push(enc.cipherAlg.toUpperCase());
  if (enc.cipherMode) parts.push(enc.cipherMode.toUpperCase() + ' mode');
  if (enc.ivgenAlg)
    parts.push(`${enc.ivgenAlg}${enc.ivgenHashAlg ? ':' + enc.ivgenHashAlg : ''} IVs`);
  if (enc.hashAlg) parts.push(`${enc.hashAlg.toUpperCase()} key hashing`);
  return parts.join(', ') || 'unknown cipher';
}

/** A short label for the encryption column. */
export function encryptionLabel(kind: 'luks' | 'aes' | 'none', version?: number): string {
  if (kind === 'luks') return `LUKS${version ?? ''}`;
  if (kind === 'aes') return 'Legacy AES (insecure)';
  return 'Not encrypted';
}

/** Splits a path into folder and file name. */
export function splitPath(p: string): { dir: string; name: string } {
  const i = p.lastIndexOf('/');
  return { dir: i <= 0 ? '/' : p.slice(0, i), name: p.slice(i + 1) };
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** True when a target picker holds an absolute folder and a plain file name (no slashes). */
export function isTargetChosen(folder: string, name: string): boolean {
  return folder.startsWith('/') && !!name.trim() && !name.includes('/');
}
