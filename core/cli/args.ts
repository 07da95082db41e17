/**
 * A small, strict argument parser for the `image-vault` command: short options with a value
 * (`-f qcow2`), long options (`--json`, `--port 8080`, `--progress=json`), repeated `-o`
 * option lists (`-o cipher=aes-256-xts-plain64,iter-time=10`) and positionals.
 */
import { fail } from '../api/errors.js';

export interface OptionSpec {
  /** Options that take a value, long names without dashes (`passphrase-file`) or `-f`-style letters. */
  values: string[];
  /** Boolean flags. */
  flags: string[];
}

export interface ParsedArgs {
  positionals: string[];
  values: Map<string, string>;
  flags: Set<string>;
  /** Merged `-o key=value,…` options. */
  options: Map<string, string>;
  /** Every value of a repeated option, in order (`--to A --to B`). */
  repeated: Map<string, string[]>;
}

export function parseArgs(argv: string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = {
    positionals: [],
    values: new Map(),
    flags: new Set(),
    options: new Map(),
    repeated: new Map(),
  };
  const takesValue = new Set([...spec.values, 'o']);
  const isFlag = new Set([...spec.flags, 'debug', 'help']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (takesValue.has(name)) {
      const value = eq >= 0 ? body.slice(eq + 1) : argv[++i];
      if (value === undefined) throw fail('INVALID_ARGUMENT', `Option ${arg} needs a value`);
      if (name === 'o') parseOptionList(value, out.options);
      else {
        out.values.set(name, value);
        out.repeated.set(name, [...(out.repeated.get(name) ?? []), value]);
      }
    } else if (isFlag.has(name) && eq < 0) {
      out.flags.add(name);
    } else {
      throw fail('INVALID_ARGUMENT', `Unknown option ${arg}`);
    }
  }
  return out;
}

/** Parses `a=b,c=d` (QEMU `-o` style) into `into`. */
export function parseOptionList(list: string, into: Map<string, string>): void {
  for (const item of list.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw fail('INVALID_ARGUMENT', `Option "${item}" must look like name=value`);
    into.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

/** Parses `64M`, `10G`, `1.5T`, `4096` (bytes) like qemu-img (binary units). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw fail('INVALID_ARGUMENT', `"${text}" is not a size (examples: 64M, 10G, 1048576)`);
  const value = Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isFinite(value) || value <= 0 || value > 2 ** 53) {
    throw fail('INVALID_ARGUMENT', `Size "${text}" is out of range`);
  }
  return Math.ceil(value);
}

export function parseInteger(
  text: string,
  what: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER
): number {
  if (!/^\d+$/.test(text))
    throw fail('INVALID_ARGUMENT', `${what} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max)
    throw fail('INVALID_ARGUMENT', `${what} must be between ${min} and ${max}`);
  return n;
}
