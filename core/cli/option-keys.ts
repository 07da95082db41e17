/**
 * `-o key=value` keys each command honours (issue #13): an unknown or misspelled key, or one
 * the command cannot honour here, is refused with `INVALID_ARGUMENT` naming it and the
 * accepted ones, instead of being ignored (the image was made with defaults).
 */
import { fail } from '../api/errors.js';
import type { ParsedArgs } from './args.js';

/** Keys of a LUKS encryption (qemu-img's `encrypt.*` spellings too). */
export const ENCRYPT_OPTION_KEYS = [
  'cipher',
  'encrypt.cipher',
  'hash',
  'hash-alg',
  'encrypt.hash-alg',
  'iter-time',
  'encrypt.iter-time',
  'iterations',
  'encrypt.format',
];

/** Keys of a new qcow2 image. */
export const QCOW2_OPTION_KEYS = ['cluster-size', 'cluster_size', 'compat'];

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      );
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * Refuses every `-o` key not in `accepted`. `why` explains, for a known key that does not
 * apply here, what would make it apply (e.g. "only encrypted outputs take it").
 * @throws `INVALID_ARGUMENT`
 */
export function checkOptionKeys(
  args: ParsedArgs,
  accepted: string[],
  known: Record<string, string> = {}
): void {
  for (const key of args.options.keys()) {
    if (accepted.includes(key)) continue;
    const list =
      accepted.length > 0 ? `accepted here: ${accepted.join(', ')}` : 'none accepted here';
    const because = known[key];
    if (because)
      throw fail('INVALID_ARGUMENT', `-o ${key} cannot be honoured: ${because} (${list})`);
    const near = [...accepted, ...Object.keys(known)].find((k) => distance(k, key) <= 2);
    const hint = near ? ` (did you mean ${near}?)` : '';
    throw fail('INVALID_ARGUMENT', `Unknown -o option "${key}"${hint}; ${list}`);
  }
}

/** `-o encrypt.format=luks` (qemu-img's way to ask for qcow2+LUKS); other formats refused. */
export function encryptFormatOption(args: ParsedArgs): boolean {
  const v = args.options.get('encrypt.format');
  if (v === undefined) return false;
  if (v !== 'luks') {
    throw fail(
      'INVALID_ARGUMENT',
      `-o encrypt.format=${v} cannot be honoured: only luks is written`
    );
  }
  return true;
}

/** qemu-img's `--output=json|human` (beside our `--json`). */
export function wantsJson(args: ParsedArgs): boolean {
  const o = args.values.get('output');
  if (o !== undefined && o !== 'json' && o !== 'human') {
    throw fail('INVALID_ARGUMENT', `--output must be json or human, got "${o}"`);
  }
  return args.flags.has('json') || o === 'json';
}

/** qemu-img's `-f FMT`: the image must be of that format (we probe; nothing is forced). */
export function checkDeclaredFormat(args: ParsedArgs, path: string, actual: string): void {
  const f = args.values.get('f');
  if (f === undefined || f === actual) return;
  throw fail('INVALID_ARGUMENT', `-f ${f}: ${path} is a ${actual} image`);
}
