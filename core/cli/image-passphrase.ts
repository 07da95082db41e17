/**
 * "The passphrase of the image named IMAGE", for every command that opens an existing image
 * (issue #13, "The CLI does what it is told"): the image may be named as qemu-img names it
 * (`--image-opts driver=qcow2,file.filename=X,encrypt.key-secret=ID`, `key-secret=ID` for
 * `driver=luks`), its passphrase may come from that secret, from `--secret ID` (an
 * `--object secret` without qemu's option string), from `--passphrase-file F` / `-fd N`, or
 * from a prompt — exactly one of them. Secrets are read from files, never argv, and the
 * caller wipes the bytes after use (docs/DESIGN.md, "Secrets").
 */
import { fail } from '../api/errors.js';
import { FileDevice } from '../io/file-device.js';
import { probeFormat } from '../formats/probe.js';
import type { ParsedArgs } from './args.js';
import { parseImageOpts, parseSecretObjects, readSecret, type ImageOpts } from './secrets.js';
import { getPassphrase } from './commands/common.js';

/** The image a command names: a path, or with `--image-opts` qemu's option string. */
export interface NamedImage {
  path: string;
  opts?: ImageOpts;
}

/**
 * The image named by the positional `text`. With `--image-opts` it is parsed as qemu-img's
 * option string and every secret id it names must be declared with `--object`. `layers`:
 * whether `backing.…key-secret` can be honoured (only by commands that read the chain, or
 * that need no passphrase at all); otherwise it is refused naming the key.
 */
export function namedImage(
  args: ParsedArgs,
  text: string,
  opts: { layers?: boolean; command?: string } = {}
): NamedImage {
  if (!args.flags.has('image-opts')) return { path: text };
  const parsed = parseImageOpts(text);
  const declared = parseSecretObjects(args);
  for (const [depth, id] of parsed.layerSecrets.entries()) {
    if (id === undefined) continue;
    if (depth > 0 && !opts.layers) {
      throw fail(
        'INVALID_ARGUMENT',
        `--image-opts ${'backing.'.repeat(depth)}encrypt.key-secret cannot be honoured: ` +
          `${opts.command ?? 'this command'} opens only the image's own LUKS header`
      );
    }
    if (!declared.has(id)) {
      throw fail(
        'INVALID_ARGUMENT',
        `No secret with id "${id}": declare it with --object secret,id=${id},file=PATH`
      );
    }
  }
  return { path: parsed.filename, opts: parsed };
}

/** `--image-opts driver=…` must name the image's format (like `-f`; nothing is forced). */
export function checkImageDriver(image: NamedImage, actual: string): void {
  const driver = image.opts?.driver;
  if (driver !== undefined && driver !== actual) {
    throw fail('INVALID_ARGUMENT', `driver=${driver}: ${image.path} is a ${actual} image`);
  }
}

/** As `checkImageDriver`, probing the format (for commands that do not inspect the image). */
export async function probeImageDriver(image: NamedImage): Promise<void> {
  if (image.opts?.driver === undefined) return;
  const dev = await FileDevice.open(image.path, { forceShare: true });
  try {
    checkImageDriver(image, await probeFormat(dev));
  } finally {
    await dev.close();
  }
}

/** The secret option beside `--NAME-file`: `passphrase` → `secret`, `new-passphrase` → `new-secret`. */
export function secretOption(name: string): string {
  return name.replace(/passphrase$/, 'secret');
}

/** Value options of passphrases `names`: `--NAME-file`, `--NAME-fd` and the `--…-secret ID`. */
export function passphraseSecretOptions(...names: string[]): string[] {
  return names.flatMap((n) => [`${n}-file`, `${n}-fd`, secretOption(n)]);
}

export interface PassphraseWanted {
  /** `passphrase` for `--passphrase-file`/`-fd` and `--secret`. */
  name: string;
  /** Prompt on a terminal when no other source is given. */
  prompt: string;
  confirm?: boolean;
  /** The image whose `--image-opts …key-secret=ID` gives this passphrase. */
  image?: NamedImage;
}

/** The sources given for the passphrase `want` (without the prompt). */
function sources(args: ParsedArgs, want: PassphraseWanted): string[] {
  const out: string[] = [];
  if (want.image?.opts?.layerSecrets[0] !== undefined) out.push('--image-opts …key-secret');
  if (args.values.has(secretOption(want.name))) out.push(`--${secretOption(want.name)}`);
  for (const suffix of ['file', 'fd']) {
    if (args.values.has(`${want.name}-${suffix}`)) out.push(`--${want.name}-${suffix}`);
  }
  return out;
}

/** Whether the passphrase `want` is given by a secret, a file or a descriptor. */
export function givesPassphrase(args: ParsedArgs, want: PassphraseWanted): boolean {
  return sources(args, want).length > 0;
}

/**
 * Reads the passphrase `want` from the one source given: the image's `--image-opts`
 * key-secret, `--NAME-secret ID` (`--secret`, `--new-secret`, …), `--NAME-file`/`-fd`, else
 * a terminal prompt (`NEEDS_PASSPHRASE` without one). Two sources are refused.
 */
export async function resolvePassphrase(
  args: ParsedArgs,
  want: PassphraseWanted
): Promise<Uint8Array> {
  const given = sources(args, want);
  if (given.length > 1) {
    throw fail('INVALID_ARGUMENT', `Give the passphrase once, not by ${given.join(' and ')}`);
  }
  const fromOpts = want.image?.opts?.layerSecrets[0];
  if (fromOpts !== undefined) return readSecret(args, fromOpts);
  const id = args.values.get(secretOption(want.name));
  if (id !== undefined) return readSecret(args, id);
  return getPassphrase(args, want.name, want.prompt, want.confirm);
}

/** Help text for the spellings above, for commands that take an image's passphrase. */
export const IMAGE_SECRET_HELP = `As qemu-img: --object secret,id=ID,file=F[,format=raw|base64] (repeatable) declares a
secret; --image-opts names IMAGE as driver=qcow2,file.filename=X,encrypt.key-secret=ID
(driver=luks,file.filename=X,key-secret=ID for raw LUKS), the secret being its passphrase;
--secret ID gives it without --image-opts. data=… is refused: argv is readable by all.`;
