/**
 * Who holds an image's lock bytes. `/proc/locks` lists OFD locks with PID -1 (they belong to
 * an open file, not a process), so the holders are found the other way round: every
 * `/proc/PID/fd/N` that is the image (same device and inode) whose `/proc/PID/fdinfo/N` has
 * `lock:` lines. Processes of other users cannot be looked into without privileges; then the
 * holder stays unnamed ("another process"). Classic POSIX locks (QEMU built without OFD
 * support) name their PID in `/proc/locks`, which is read as well.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';

/** One process holding locks on the image, and the lock bytes it holds there. */
export interface LockHolder {
  pid: number;
  /** A short name: `qemu-io`, `qemu-system-x86`, `image-vault`, … */
  name: string;
  /** Locked byte offsets in the QEMU range we look at. */
  bytes: Set<number>;
}

/** The byte range the holders are asked about (QEMU's permission and shared-permission bytes). */
const RANGE_START = 100;
const RANGE_END = 264;

/** `MAJ:MIN:INO` as /proc/locks and fdinfo print a file (major and minor in hex). */
export function procLockId(dev: bigint, ino: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const hex = (n: bigint) => n.toString(16).padStart(2, '0');
  return `${hex(major)}:${hex(minor)}:${ino}`;
}

/** Bytes in the QEMU range that `lock:` / /proc/locks lines for `id` cover. */
export function lockedBytes(text: string, id: string): Set<number> {
  const bytes = new Set<number>();
  for (const line of text.split('\n')) {
    // "lock:\t1: OFDLCK ADVISORY  READ -1 fe:00:2154733 100 101" (fdinfo; /proc/locks
    // has no "lock:" prefix). The end is "EOF" for locks to the end of the file.
    const m = /(\S+)\s+(\d+)\s+(\d+|EOF)\s*$/.exec(line);
    if (!m || m[1] !== id) continue;
    const start = Number(m[2]);
    const end = m[3] === 'EOF' ? RANGE_END - 1 : Number(m[3]);
    for (let b = Math.max(start, RANGE_START); b <= Math.min(end, RANGE_END - 1); b++) bytes.add(b);
  }
  return bytes;
}

async function processName(pid: number): Promise<string> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = cmdline.split('\0').filter(Boolean);
  // Our own CLI runs as `node …/image-vault(.js)`; the packaged app's binary is image-vault.
  if (args.slice(0, 3).some((a) => /^image-vault(\.js)?$/.test(basename(a)))) return 'image-vault';
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  return comm || (args[0] ? basename(args[0]) : `PID ${pid}`);
}

/** Lock bytes held by PIDs named in /proc/locks (classic POSIX locks; OFD ones show -1). */
async function posixHolders(id: string): Promise<Map<number, Set<number>>> {
  const out = new Map<number, Set<number>>();
  const text = await readFile('/proc/locks', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+POSIX\s+\S+\s+\S+\s+(\d+)\s/.exec(line);
    if (!m) continue;
    const bytes = lockedBytes(line, id);
    if (bytes.size > 0) out.set(Number(m[1]), bytes);
  }
  return out;
}

/**
 * Processes holding lock bytes on the file with `dev`/`ino` (from a `bigint` stat), leaving
 * out the open file `skip` (`{ pid, fd }`: the caller's own descriptor). Best effort: empty
 * when nothing can be seen.
 */
export async function findLockHolders(
  dev: bigint,
  ino: bigint,
  skip?: { pid: number; fd: number }
): Promise<LockHolder[]> {
  const id = procLockId(dev, ino);
  const found = new Map<number, Set<number>>(await posixHolders(id));
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  for (const p of pids) {
    const pid = Number(p);
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    await Promise.all(
      fds.map(async (fd) => {
        if (skip && skip.pid === pid && String(skip.fd) === fd) return;
        const st = await stat(`/proc/${pid}/fd/${fd}`, { bigint: true }).catch(() => undefined);
        if (!st || st.ino !== ino || st.dev !== dev) return;
        const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
        const bytes = lockedBytes(
          info
            .split('\n')
            .filter((l) => l.startsWith('lock:'))
            .join('\n'),
          id
        );
        if (bytes.size === 0) return;
        const all = found.get(pid) ?? new Set<number>();
        for (const b of bytes) all.add(b);
        found.set(pid, all);
      })
    );
  }
  return Promise.all(
    [...found].map(async ([pid, bytes]) => ({ pid, name: await processName(pid), bytes }))
  );
}
