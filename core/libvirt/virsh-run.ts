/**
 * Runs `virsh` with an optional stdin payload. Secrets reach virsh only through stdin (or a
 * 0600 file, see `secret-file.ts`), never through argv or the environment (docs/DESIGN.md
 * "Secrets"): argv is world-readable in /proc/PID/cmdline.
 */
import { spawn } from 'node:child_process';
import { fail } from '../api/errors.js';

export interface VirshTarget {
  /** Connection URI (`-c`); virsh's default connection when absent. */
  uri?: string;
  /** The virsh binary, default `virsh` from PATH. */
  virsh?: string;
}

export interface VirshResult {
  stdout: string;
  stderr: string;
  /** Exit status, or null when killed by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Error thrown when the virsh binary cannot be started; the caller adds the manual steps. */
export const VIRSH_MISSING = 'virsh was not found (Debian package libvirt-clients)';

/**
 * The shell program that gives virsh a real pipe as stdin. Node's `stdio: 'pipe'` is a
 * socketpair, and open("/dev/stdin") on a socket fails with ENXIO, so virsh `--file
 * /dev/stdin` cannot read it; `cat` copies the socket into a pipe(2) that virsh can open.
 * Only virsh's own arguments appear in argv (`$0 "$@"`), never the input.
 */
const PIPE_INTO = 'cat | exec "$0" "$@"';

/**
 * Spawns virsh (`-c uri` first, then `-q` quiet) and resolves with its output; never rejects
 * for a non-zero exit. `input` reaches virsh's stdin through a pipe (readable as
 * `/dev/stdin`), which is then closed; the caller keeps ownership of the buffer (and wipes it).
 */
export function runVirsh(
  target: VirshTarget,
  args: string[],
  input?: Uint8Array,
  timeoutMs = 120_000
): Promise<VirshResult> {
  const argv = [...(target.uri === undefined ? [] : ['-c', target.uri]), '-q', ...args];
  return new Promise((resolve, reject) => {
    const bin = target.virsh ?? 'virsh';
    const child = spawn(
      input === undefined ? bin : '/bin/sh',
      input === undefined ? argv : ['-c', PIPE_INTO, bin, ...argv],
      {
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
        timeout: timeoutMs,
      }
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(fail('PEER_MISSING', VIRSH_MISSING, e));
      else reject(fail('IO', `Could not run virsh: ${e.code ?? e.message}`, e));
    });
    if (input !== undefined && child.stdin) {
      // EPIPE when virsh exits without reading (e.g. bad URI) is reported through its stderr.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
    child.on('close', (code, signal) => {
      // Through sh, a missing binary shows as status 127 instead of ENOENT.
      if (input !== undefined && code === 127 && /not found|No such file/.test(err.join(''))) {
        reject(fail('PEER_MISSING', VIRSH_MISSING));
        return;
      }
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
      });
    });
  });
}

/**
 * One line of virsh's own error text for a message: its `error:` lines, whitespace
 * collapsed, bounded in length. virsh never echoes a secret value it read from stdin/file.
 */
export function virshErrorText(r: VirshResult): string {
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/^error:\s*/, ''));
  const text = lines.join('; ').replace(/\s+/g, ' ');
  const status = r.signal !== null ? `killed by ${r.signal}` : `exit status ${r.code}`;
  const body = text.length > 600 ? `${text.slice(0, 600)}…` : text;
  return body.length > 0 ? body : status;
}
