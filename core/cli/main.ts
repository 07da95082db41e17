/**
 * The `image-vault` command. One line of plain words per error with its stable code; stack
 * traces only with `--debug`. Exit codes: 0 ok, 1 failure, 4 wrong passphrase, 5 image in use
 * (`IMAGE_IN_USE`), 130 cancelled; `check` uses 0 clean / 2 corruptions / 3 leaks only / 1
 * could not check.
 */
import { statSync } from 'node:fs';
import { exitCodeFor, toVaultError } from '../api/errors.js';
import { setKdfCostPolicy } from '../crypto/kdf-cost.js';
import { COMMANDS, usage } from './commands/index.js';
import { createCliIo, type CliIo } from './io.js';

export const VERSION = '0.1.0';

/**
 * Whether the command will bulk-encrypt or decrypt through the crypto worker pool: migrate
 * and bundle always do, convert when it is given a passphrase or asked to encrypt. (A source
 * whose passphrase comes from the prompt still works; its workers just start later.)
 */
export function needsCryptoWorkers(name: string, args: string[]): boolean {
  if (args.includes('--help') || args.includes('-h')) return false;
  if (name === 'migrate' || name === 'bundle') return true;
  if (name !== 'convert') return false;
  const luksOutput = args.some((a, i) => a === '-O' && args[i + 1] === 'luks');
  return luksOutput || args.some((a) => a === '--encrypt' || /passphrase-(file|fd)/.test(a));
}

/**
 * Whether the command names a passphrase or secret to derive a key from: its KDF worker then
 * boots (~0.1 s) while the command loads and reads the header, instead of after (README
 * "Speed", start-up).
 */
export function needsKdfWorker(args: string[]): boolean {
  if (args.includes('--help') || args.includes('-h')) return false;
  return args.some((a) => /passphrase-(file|fd)|^--(old-)?secret$|^--object$/.test(a));
}

/**
 * Whether the files the command names hold little data (under 64 MiB allocated in all): then
 * the crypto pools work inline (core/crypto/crypto-pool.ts) and prewarmed workers would only
 * cost their start-up (issue #15: a 20 GiB sparse disk with a few MiB of data).
 */
export function smallJob(args: string[]): boolean {
  let allocated = 0;
  for (const a of args) {
    try {
      const st = statSync(a);
      if (st.isFile()) allocated += st.blocks * 512;
    } catch {
      // not a file: an option, a size, an output still to be made
    }
  }
  return allocated < 64 * 1024 * 1024;
}

export async function main(argv: string[], io: CliIo = createCliIo()): Promise<number> {
  const debug = argv.includes('--debug');
  const allowSlow = argv.includes('--allow-slow-keyslots');
  const [name, ...rest] = argv.filter((a) => a !== '--debug' && a !== '--allow-slow-keyslots');
  // Keyslots too costly to open are skipped with a warning (core/crypto/kdf-cost.ts).
  setKdfCostPolicy({ allowSlow, onSkip: (m) => io.err(`warning: ${m}`) });
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.out(`image-vault ${VERSION}`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    io.err(
      `image-vault: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')}; try image-vault --help) [INVALID_ARGUMENT]`
    );
    return exitCodeFor('INVALID_ARGUMENT');
  }
  try {
    if (needsCryptoWorkers(name, rest) && !smallJob(rest)) {
      // Workers take ~0.1 s to start: let them boot while the command loads and unlocks.
      // Only a head start: if they cannot start here, the job says why when it needs them.
      try {
        (await import('../crypto/crypto-pool.js')).prewarmCryptoWorkers();
      } catch {
        // ignored on purpose (see above)
      }
    }
    if (needsKdfWorker(rest)) {
      try {
        (await import('../crypto/kdf-client.js')).prewarmKdfWorker();
      } catch {
        // a head start only, as above
      }
    }
    const command = await load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (e) {
    const err = toVaultError(e);
    io.err(`image-vault: ${err.message} [${err.code}]`);
    if (debug) io.err(String((e as Error)?.stack ?? e));
    // A script that asked for JSON gets its failure as JSON too (README "Exit codes").
    if (rest.includes('--json')) {
      io.out(JSON.stringify({ error: err.toPayload(), exitCode: exitCodeFor(err.code) }));
    }
    return exitCodeFor(err.code);
  }
}
