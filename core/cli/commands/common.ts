/** Helpers shared by CLI commands: passphrase options, encryption `-o` options. */
import { fail } from '../../api/errors.js';
import type { EncryptOptions, KdfType } from '../../api/types.js';
import type { ParsedArgs } from '../args.js';
import { parseInteger } from '../args.js';
import { readPassphrase } from '../passphrase.js';

/** Value options every passphrase flavour accepts: `--NAME-file F` and `--NAME-fd N`. */
export function passphraseOptions(...names: string[]): string[] {
  return names.flatMap((n) => [`${n}-file`, `${n}-fd`]);
}

/** Reads the passphrase named `name` (`--NAME-file`, `--NAME-fd`, else a TTY prompt). */
export function getPassphrase(
  args: ParsedArgs,
  name: string,
  prompt: string,
  confirm = false
): Promise<Uint8Array> {
  const file = args.values.get(`${name}-file`);
  const fdText = args.values.get(`${name}-fd`);
  const fd = fdText === undefined ? undefined : parseInteger(fdText, `--${name}-fd`, 0, 65535);
  return readPassphrase({ file, fd, prompt, confirm });
}

/** `-U` / `--force-share`, qemu-img's spelling: read an image while a writer holds it. */
export const FORCE_SHARE_FLAGS = ['U', 'force-share'];

/** Help text for the flags above. */
export const FORCE_SHARE_HELP = `-U, --force-share   read the image even while a VM or another program writes it (as
                    qemu-img -U; what is read may be inconsistent). Without it an image held
                    for writing is refused with IMAGE_IN_USE (exit status 5).`;

export function forceShare(args: ParsedArgs): boolean {
  return args.flags.has('U') || args.flags.has('force-share');
}

export function hasPassphrase(args: ParsedArgs, name: string): boolean {
  return args.values.has(`${name}-file`) || args.values.has(`${name}-fd`);
}

/** Encryption options from `-o cipher=…,hash=…,iter-time=…,iterations=…`. */
export function encryptOptions(args: ParsedArgs): EncryptOptions {
  const o = args.options;
  const enc: EncryptOptions = {};
  const cipher = o.get('cipher') ?? o.get('encrypt.cipher');
  if (cipher) enc.cipher = cipher;
  const hash = o.get('hash') ?? o.get('encrypt.hash-alg') ?? o.get('hash-alg');
  if (hash) enc.hash = hash;
  const iterTime = o.get('iter-time') ?? o.get('encrypt.iter-time');
  if (iterTime) enc.iterTimeMs = parseInteger(iterTime, 'iter-time', 1, 600_000);
  const iterations = o.get('iterations');
  if (iterations) enc.iterations = parseInteger(iterations, 'iterations', 1000);
  return enc;
}

export function clusterSizeOption(args: ParsedArgs): number | undefined {
  const v = args.options.get('cluster-size') ?? args.options.get('cluster_size');
  if (v === undefined) return undefined;
  const n = /^\d+[kKmM]$/.test(v)
    ? Number(v.slice(0, -1)) * (/[mM]$/.test(v) ? 1 << 20 : 1 << 10)
    : parseInteger(v, 'cluster-size', 512, 2 << 20);
  if (n < 512 || n > 2 << 20 || (n & (n - 1)) !== 0) {
    throw fail('INVALID_ARGUMENT', 'cluster-size must be a power of two from 512 to 2M');
  }
  return n;
}

export function compatOption(args: ParsedArgs): '0.10' | '1.1' | undefined {
  const v = args.options.get('compat');
  if (v === undefined) return undefined;
  if (v === '0.10' || v === 'v2') return '0.10';
  if (v === '1.1' || v === 'v3') return '1.1';
  throw fail('INVALID_ARGUMENT', 'compat must be 0.10 (qcow2 v2) or 1.1 (qcow2 v3)');
}

export function requirePositionals(args: ParsedArgs, names: string[]): string[] {
  if (args.positionals.length !== names.length) {
    throw fail('INVALID_ARGUMENT', `Expected ${names.join(' ')}`);
  }
  return args.positionals;
}

/** cryptsetup-style KDF options for new keyslots (`--pbkdf`, `--pbkdf-memory`, …). */
export const KDF_VALUE_OPTIONS = [
  'pbkdf',
  'pbkdf-memory',
  'pbkdf-parallel',
  'pbkdf-force-iterations',
];

/** The KDF options present in `args` (docs/spec/luks2.md §6 limits are checked in core). */
export function kdfArgs(args: ParsedArgs): {
  pbkdf?: KdfType;
  pbkdfMemoryKiB?: number;
  pbkdfParallel?: number;
  iterations?: number;
} {
  const out: ReturnType<typeof kdfArgs> = {};
  const pbkdf = args.values.get('pbkdf');
  if (pbkdf !== undefined) {
    if (pbkdf !== 'pbkdf2' && pbkdf !== 'argon2i' && pbkdf !== 'argon2id') {
      throw fail('INVALID_ARGUMENT', '--pbkdf must be pbkdf2, argon2i or argon2id');
    }
    out.pbkdf = pbkdf;
  }
  const mem = args.values.get('pbkdf-memory');
  if (mem !== undefined)
    out.pbkdfMemoryKiB = parseInteger(mem, '--pbkdf-memory', 32, 4 * 1024 * 1024);
  const par = args.values.get('pbkdf-parallel');
  if (par !== undefined) out.pbkdfParallel = parseInteger(par, '--pbkdf-parallel', 1, 4);
  const it = args.values.get('pbkdf-force-iterations');
  if (it !== undefined) out.iterations = parseInteger(it, '--pbkdf-force-iterations', 1);
  return out;
}

/** Raw LUKS create options: `--luks-version`, `--sector-size`, `--iter-time` and the KDF ones. */
export function luksCreateArgs(args: ParsedArgs): EncryptOptions {
  const enc: EncryptOptions = { ...encryptOptions(args) };
  const { iterations, ...kdf } = kdfArgs(args);
  Object.assign(enc, kdf);
  if (iterations !== undefined) enc.iterations = iterations;
  const t = args.values.get('iter-time');
  if (t !== undefined) enc.iterTimeMs = parseInteger(t, '--iter-time', 1, 600_000);
  const v = args.values.get('luks-version');
  if (v !== undefined) enc.luksVersion = parseInteger(v, '--luks-version', 1, 2) as 1 | 2;
  const ss = args.values.get('sector-size');
  if (ss !== undefined) {
    const n = parseInteger(ss, '--sector-size', 512, 4096);
    if (n !== 512 && n !== 4096)
      throw fail('INVALID_ARGUMENT', '--sector-size must be 512 or 4096');
    enc.sectorSize = n;
  }
  return enc;
}
