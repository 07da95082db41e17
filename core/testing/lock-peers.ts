/**
 * Test-only helpers for the image-lock suites: hold an image with a real `qemu-io` (which
 * keeps it open until its standard input ends) and wait for lock bytes to show in
 * `/proc/locks`. Waiting is for a condition, bounded, never a timing assertion.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockedBytes, procLockId } from '../io/lock-holders.js';

/** The QEMU lock bytes `/proc/locks` shows on `path` (anyone's). */
export async function procLockBytes(path: string): Promise<number[]> {
  const st = await stat(path, { bigint: true });
  const text = await readFile('/proc/locks', 'utf8');
  return [...lockedBytes(text, procLockId(st.dev, st.ino))].sort((a, b) => a - b);
}

/** Waits (at most `limitMs`) until `/proc/locks` shows every byte of `bytes` on `path`. */
export async function waitForLockBytes(
  path: string,
  bytes: number[],
  limitMs = 30_000
): Promise<number[]> {
  const until = Date.now() + limitMs;
  for (;;) {
    const held = await procLockBytes(path);
    if (bytes.every((b) => held.includes(b))) return held;
    if (Date.now() > until) {
      throw new Error(
        `lock bytes ${bytes.join(',')} never showed on ${path} (held: ${held.join(',')})`
      );
    }
    await sleep(20);
  }
}

export interface QemuHolder {
  pid: number;
  /** Ends qemu-io (end of its input) and waits for it to exit. */
  release(): Promise<void>;
}

/**
 * Starts `qemu-io ARGS` in interactive mode on an image and returns once its locks show
 * (byte 101 for a writer, 100 for a reader). `args` name the image (plain path, or
 * `--image-opts …` with secret objects).
 */
export async function holdWithQemuIo(
  path: string,
  args: string[],
  opts: { readOnly?: boolean } = {}
): Promise<QemuHolder> {
  const child: ChildProcess = spawn('qemu-io', [...(opts.readOnly ? ['-r'] : []), ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await Promise.race([
      waitForLockBytes(path, [opts.readOnly ? 100 : 101]),
      exited.then(() => {
        throw new Error(`qemu-io exited early: ${stderr}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid as number,
    async release() {
      child.stdin?.end('quit\n');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
