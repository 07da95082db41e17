/**
 * The per-domain QEMU log libvirt keeps (QEMU's stderr goes there). When QEMU exits during
 * start-up before libvirt reaches its monitor, virsh may report only "failed to connect to
 * monitor socket"; the reason, such as LUKS's "Invalid password", is then only in this log.
 */
import { open, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIBVIRT_URI } from './plan.js';

/** Where libvirt's QEMU driver logs domain `name` for `uri`, when that is on this host. */
export function domainLogPath(uri: string | undefined, name: string): string | undefined {
  // A name that could leave the log folder names no log of ours.
  if (name === '' || name.startsWith('.') || /[/\\\0]/.test(name)) return undefined;
  const u = uri ?? DEFAULT_LIBVIRT_URI;
  if (u === 'qemu:///system') return join('/var/log/libvirt/qemu', `${name}.log`);
  if (u === 'qemu:///session') {
    const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    return join(cache, 'libvirt/qemu/log', `${name}.log`);
  }
  return undefined;
}

/** The log's current size (0 when missing or unreadable): where this attempt's lines start. */
export async function logMark(path: string | undefined): Promise<number> {
  if (!path) return 0;
  return stat(path).then(
    (s) => s.size,
    () => 0
  );
}

/** The log's text from `from` on (at most the last 64 KiB of it); '' when unreadable. */
export async function logSince(path: string | undefined, from: number): Promise<string> {
  if (!path) return '';
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const start = Math.max(from, size - 65536);
      if (size <= start) return '';
      const buf = Buffer.alloc(size - start);
      const { bytesRead } = await fh.read(buf, 0, buf.length, start);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}
