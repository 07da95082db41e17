/**
 * qemu-img's secret spellings (issue #13, "The CLI does what it is told"), so scripts carry
 * over: `--object secret,id=ID,file=PATH[,format=raw|base64]` names a secret, and
 * `-o encrypt.key-secret=ID` (new images) or `--image-opts …,encrypt.key-secret=ID,
 * backing.encrypt.key-secret=ID2` (sources, one per layer) use it. A secret is read from its
 * file like `--passphrase-file` (bytes as-is; the caller wipes them after use). `data=` is
 * refused: argv is readable by every user of the machine (docs/DESIGN.md, "Secrets").
 */
import { readFileSync } from 'node:fs';
import { fail } from '../api/errors.js';
import type { ParsedArgs } from './args.js';
import { readPassphrase } from './passphrase.js';

interface SecretObject {
  file: string;
  format: 'raw' | 'base64';
}

/** Splits a QEMU option string on commas; `,,` is a literal comma (as in qemu's parser). */
export function splitQemuOptions(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === ',' && text[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((s) => s !== '');
}

function keyValues(items: string[], what: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw fail('INVALID_ARGUMENT', `${what}: "${item}" must look like name=value`);
    map.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return map;
}

/** The secrets declared with `--object secret,…` (repeatable), by id. */
export function parseSecretObjects(args: ParsedArgs): Map<string, SecretObject> {
  const secrets = new Map<string, SecretObject>();
  for (const text of args.repeated.get('object') ?? []) {
    const parts = splitQemuOptions(text);
    const first = parts[0] ?? '';
    const typed = first.includes('=');
    const kv = keyValues(typed ? parts : parts.slice(1), '--object');
    const type = typed ? kv.get('qom-type') : first;
    kv.delete('qom-type');
    if (type !== 'secret') {
      throw fail('INVALID_ARGUMENT', `--object ${type ?? text}: only secret objects are accepted`);
    }
    const id = kv.get('id');
    if (!id) throw fail('INVALID_ARGUMENT', '--object secret needs id=ID');
    if (kv.has('data')) {
      throw fail(
        'INVALID_ARGUMENT',
        `--object secret,id=${id},data=… is refused: the command line is readable by every ` +
          'user (ps, /proc/PID/cmdline); put the secret in a file and say file=PATH'
      );
    }
    for (const key of kv.keys()) {
      if (!['id', 'file', 'format'].includes(key)) {
        throw fail(
          'INVALID_ARGUMENT',
          `--object secret,id=${id}: "${key}" is not supported (id, file, format=raw|base64)`
        );
      }
    }
    const file = kv.get('file');
    if (!file) throw fail('INVALID_ARGUMENT', `--object secret,id=${id} needs file=PATH`);
    const format = kv.get('format') ?? 'raw';
    if (format !== 'raw' && format !== 'base64') {
      throw fail('INVALID_ARGUMENT', `--object secret,id=${id}: format must be raw or base64`);
    }
    if (secrets.has(id)) throw fail('INVALID_ARGUMENT', `--object secret id "${id}" is repeated`);
    secrets.set(id, { file, format });
  }
  return secrets;
}

/** The secret `id` declared with `--object`; an unknown id is refused naming it. */
function declaredSecret(args: ParsedArgs, id: string): SecretObject {
  const secret = parseSecretObjects(args).get(id);
  if (!secret) {
    throw fail(
      'INVALID_ARGUMENT',
      `No secret with id "${id}": declare it with --object secret,id=${id},file=PATH`
    );
  }
  return secret;
}

/** Reads the secret `id` declared with `--object`; an unknown id is refused naming it. */
export function readSecret(args: ParsedArgs, id: string): Uint8Array {
  const secret = declaredSecret(args, id);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(secret.file));
  } catch (e) {
    throw fail('NOT_FOUND', `Cannot read the file of secret "${id}": ${secret.file}`, e);
  }
  if (secret.format === 'base64') {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    bytes.fill(0);
    if (!/^[A-Za-z0-9+/]*={0,2}\s*$/.test(text)) {
      throw fail('INVALID_ARGUMENT', `Secret "${id}" is not valid base64`);
    }
    const decoded = Buffer.from(text.trim(), 'base64');
    bytes = new Uint8Array(decoded);
    decoded.fill(0);
  }
  if (bytes.length === 0) throw fail('INVALID_ARGUMENT', `Secret "${id}" is empty`);
  return bytes;
}

/** qemu-img's `-o encrypt.key-secret=ID` for a new image, else `--passphrase-file/-fd`/prompt. */
export async function newPassphrase(
  args: ParsedArgs,
  read: () => Promise<Uint8Array>
): Promise<Uint8Array> {
  const id = args.options.get('encrypt.key-secret');
  if (id === undefined) return read();
  if (args.values.has('passphrase-file') || args.values.has('passphrase-fd')) {
    throw fail(
      'INVALID_ARGUMENT',
      'Give the new passphrase once: -o encrypt.key-secret or --passphrase-file/-fd'
    );
  }
  return readSecret(args, id);
}

/** A source named by qemu-img's `--image-opts` string, with one secret id per layer. */
export interface ImageOpts {
  filename: string;
  driver?: string;
  /** Secret ids by layer: 0 = the image, 1 = its backing file, … */
  layerSecrets: (string | undefined)[];
}

const IMAGE_DRIVERS = ['qcow2', 'qcow', 'luks', 'raw'];

/**
 * Parses `driver=qcow2,file.filename=X,encrypt.key-secret=ID,backing.encrypt.key-secret=ID2`
 * (`key-secret` for driver=luks; `file.driver=file` accepted). Other keys are refused.
 */
export function parseImageOpts(text: string): ImageOpts {
  const kv = keyValues(splitQemuOptions(text), '--image-opts');
  const out: ImageOpts = { filename: '', layerSecrets: [] };
  for (const [key, value] of kv) {
    const m = /^((?:backing\.)*)(?:encrypt\.)?key-secret$/.exec(key);
    if (m) {
      out.layerSecrets[(m[1] ?? '').length / 'backing.'.length] = value;
    } else if (key === 'file.filename' || key === 'filename') {
      out.filename = value;
    } else if (key === 'driver') {
      if (!IMAGE_DRIVERS.includes(value)) {
        throw fail(
          'INVALID_ARGUMENT',
          `--image-opts driver=${value}: ${IMAGE_DRIVERS.join(', ')} are read`
        );
      }
      out.driver = value;
    } else if (key === 'file.driver') {
      if (value !== 'file') throw fail('INVALID_ARGUMENT', '--image-opts file.driver must be file');
    } else if (key === 'encrypt.format' && (value === 'luks' || value === 'aes')) {
      // qemu-img accepts it on reading too (aes: legacy qcow/qcow2); the format is probed.
    } else {
      throw fail(
        'INVALID_ARGUMENT',
        `--image-opts "${key}" is not supported (driver, file.filename, ` +
          '[backing.]…encrypt.key-secret)'
      );
    }
  }
  if (!out.filename) throw fail('INVALID_ARGUMENT', '--image-opts needs file.filename=PATH');
  return out;
}

/** Passphrases of a source's layers: the image's own, then its backing files' (by depth). */
export interface SourceSecrets {
  top?: Uint8Array;
  backing: (Uint8Array | undefined)[];
}

/**
 * Reads per-layer passphrases: `--backing-passphrase-file F` (repeatable: the first is the
 * backing file's, the next its backing file's, …) or the `backing.…key-secret` ids of
 * `--image-opts`. A layer without its own passphrase is tried with the image's.
 */
export async function backingPassphrases(
  args: ParsedArgs,
  opts: ImageOpts | undefined
): Promise<(Uint8Array | undefined)[]> {
  const files = args.repeated.get('backing-passphrase-file') ?? [];
  const ids = opts?.layerSecrets.slice(1) ?? [];
  if (files.length > 0 && ids.some((id) => id !== undefined)) {
    throw fail(
      'INVALID_ARGUMENT',
      'Give backing passphrases once: --backing-passphrase-file or backing.encrypt.key-secret'
    );
  }
  const out: (Uint8Array | undefined)[] = [];
  try {
    for (const [i, file] of files.entries()) {
      out[i] = await readPassphrase({ file, prompt: `Passphrase of backing layer ${i + 1}: ` });
    }
    for (const [i, id] of ids.entries())
      out[i] = id === undefined ? undefined : readSecret(args, id);
  } catch (e) {
    for (const b of out) b?.fill(0);
    throw e;
  }
  return out;
}

/** Help text for qemu-img's secret spellings. */
export const SECRET_HELP = `qemu-img's secrets work too: --object secret,id=ID,file=F[,format=raw|base64]
(repeatable) declares one; -o encrypt.key-secret=ID is the new passphrase; --image-opts
reads SRC as driver=qcow2,file.filename=X,encrypt.key-secret=ID[,backing.encrypt.key-secret=
ID2,backing.backing.…] (key-secret=ID for driver=luks); --source-secret ID is the source's.
data=… is refused: the command line is readable by every user.`;
