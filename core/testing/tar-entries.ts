/** Test-only: where each entry's data sits in a ustar file (for tampering tests). */
export interface TarEntry {
  name: string;
  offset: number;
  size: number;
}

export function tarEntries(buf: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  while (at + 512 <= buf.length) {
    const h = buf.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const str = (from: number, len: number) =>
      Buffer.from(h.subarray(from, from + len))
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const prefix = str(345, 155);
    const name = prefix ? `${prefix}/${str(0, 100)}` : str(0, 100);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    out.push({ name, offset: at + 512, size });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
