/**
 * Test-only helpers for interop suites: run the peer tools (qemu-img, qemu-io, cryptsetup)
 * as the oracle, with secrets passed through files (never on a command line).
 *
 * Peers are required. `scripts/test.mjs` installs them; the only way to skip the peer
 * suites is the explicit opt-out `IMAGE_VAULT_SKIP_PEERS=1`, which is refused under CI.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export type PeerTool = 'qemu-img' | 'qemu-io' | 'cryptsetup' | 'age' | 'age-keygen' | 'ssh-keygen';

function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/**
 * Returns `{ skip: reason }` options for `node:test` when peers are deliberately skipped,
 * and throws when a peer is missing without the opt-out (so suites never skip silently).
 */
export function peerTestOptions(...tools: PeerTool[]): { skip?: string } {
  const missing = tools.filter((t) => !hasTool(t));
  if (process.env.IMAGE_VAULT_SKIP_PEERS === '1') {
    if (process.env.CI) throw new Error('IMAGE_VAULT_SKIP_PEERS is not allowed in CI');
    return { skip: 'peer suites skipped by IMAGE_VAULT_SKIP_PEERS=1' };
  }
  if (missing.length > 0) {
    throw new Error(
      `peer tools missing: ${missing.join(', ')} (install Debian packages qemu-utils cryptsetup-bin age openssh-client)`
    );
  }
  return {};
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command, never throwing on a non-zero exit; returns its output and status. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string } = {}
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      cwd: opts.cwd,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    return {
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? String(e),
      code: typeof err.code === 'number' ? err.code : 1,
    };
  }
}

/** Runs a command with `input` on its standard input (never throws on a non-zero exit). */
export function runWithInput(cmd: string, args: string[], input: Uint8Array | string): RunResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? ''), code: r.status ?? 1 };
}

/** Runs a command and throws with its stderr when it fails. */
export async function runOk(
  cmd: string,
  args: string[],
  opts: { cwd?: string } = {}
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A scratch directory removed by `cleanup()`. */
export async function scratchDir(
  prefix = 'iv-test-'
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes `passphrase` to a file (no trailing newline) and returns QEMU `--object` arguments
 * referring to it by `file=`, so the secret never appears on a command line.
 */
export async function qemuSecret(dir: string, id: string, passphrase: string): Promise<string[]> {
  const file = join(dir, `${id}.secret`);
  await writeFile(file, passphrase, { mode: 0o600 });
  return ['--object', `secret,id=${id},file=${file}`];
}

/** Writes a passphrase file for our CLI or cryptsetup `--key-file`; returns its path. */
export async function passphraseFile(
  dir: string,
  name: string,
  passphrase: string
): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, passphrase, { mode: 0o600 });
  return file;
}

/**
 * Runs a qemu-img command that creates LUKS (its PBKDF2 benchmark sometimes fails with
 * "Unable to get accurate CPU usage" at tiny iter-times; docs/spec/README.md says retry). The
 * failure has been seen six times in a row here, hence the generous bound.
 */
export async function runQemuRetrying(cmd: string, args: string[]): Promise<string> {
  let last: RunResult | undefined;
  for (let attempt = 0; attempt < 30; attempt++) {
    last = await run(cmd, args);
    if (last.code === 0) return last.stdout;
    if (!/accurate CPU usage/.test(last.stderr)) break;
  }
  throw new Error(`${cmd} ${args.join(' ')} failed: ${last?.stderr}`);
}
