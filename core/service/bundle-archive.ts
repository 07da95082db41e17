/**
 * The bundle file (README "Bundles: layout"): a POSIX ustar archive written and read with
 * the `tar-stream` package, never the system `tar`. Every entry sits under one top folder,
 * the small entries first and the image last, so an importer reads the manifest, the
 * signature and the sealed secret, checks them, and only then streams the image:
 *
 *   NAME/manifest.json        what the bundle holds (signed)
 *   NAME/manifest.json.sig    SSHSIG over manifest.json (signed bundles)
 *   NAME/secret.age           the unlocking secret sealed to the recipients (sealed bundles)
 *   NAME/secret.xml, NAME/disk.xml, NAME/README.txt
 *   NAME/IMAGE                the encrypted image (`manifest.image`), last
 *
 * `tar xf` of the file gives the folder form, which imports the same way.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { openLockedFile } from '../io/locked-file.js';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import * as tar from 'tar-stream';
import { fail, isVaultError, toVaultError } from '../api/errors.js';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.json.sig';
export const SEALED_SECRET = 'secret.age';
/** Entries before the image are read into memory: each must stay under this size. */
const MAX_SMALL_ENTRY = 1 << 20;
const SMALL_NAMES = new Set([
  MANIFEST,
  SIGNATURE,
  SEALED_SECRET,
  'secret.xml',
  'disk.xml',
  'README.txt',
]);

export interface SmallEntry {
  name: string;
  data: Uint8Array;
  mode?: number;
}

/**
 * Writes the archive to `out` (an already chosen partial path): `small` entries in order,
 * then the image streamed from `imagePath` through `tap` (progress).
 */
export async function writeBundleArchive(opts: {
  /** The claimed (existing, empty) `.partial` of withPartialOutput, written in place. */
  out: string;
  top: string;
  mtime: Date;
  small: SmallEntry[];
  imageName: string;
  imagePath: string;
  tap?: Transform;
  signal?: AbortSignal;
}): Promise<void> {
  const pack = tar.pack();
  const sink = pipeline(pack, createWriteStream(opts.out, { flags: 'r+' }), {
    signal: opts.signal,
  });
  const fed = (async () => {
    for (const e of opts.small) {
      await new Promise<void>((res, rej) =>
        pack.entry(
          { name: `${opts.top}/${e.name}`, mode: e.mode ?? 0o644, mtime: opts.mtime, type: 'file' },
          Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length),
          (err) => (err ? rej(err) : res())
        )
      );
    }
    const size = (await stat(opts.imagePath)).size;
    let done!: () => void;
    let failed!: (e: unknown) => void;
    const written = new Promise<void>((res, rej) => ((done = res), (failed = rej)));
    const entry = pack.entry(
      { name: `${opts.top}/${opts.imageName}`, size, mode: 0o600, mtime: opts.mtime, type: 'file' },
      (err) => (err ? failed(err) : done())
    );
    const src = (await openLockedFile(opts.imagePath)).createReadStream();
    await (opts.tap
      ? pipeline(src, opts.tap, entry, { signal: opts.signal })
      : pipeline(src, entry, { signal: opts.signal }));
    await written;
    pack.finalize();
  })();
  fed.catch((e) => pack.destroy(e as Error));
  await Promise.all([fed, sink]);
}

/** A bundle opened for reading: its small files in memory, the image still to stream. */
export interface OpenedBundle {
  layout: 'folder' | 'tar';
  files: Map<string, Uint8Array>;
  /** Size of the image entry (bytes), or undefined before the image was reached. */
  imageSize: number;
  /** Streams the image (once). */
  image(): Readable;
  /** Reads whatever follows the image (tar) and releases the file. */
  finish(): Promise<void>;
  close(): void;
}

/**
 * Opens a bundle folder or file. For a file, reads entries up to the image named by
 * `imageNameOf(files)` (called once the manifest is in); the image stream is then ready.
 */
export async function openBundle(
  path: string,
  imageNameOf: (files: Map<string, Uint8Array>) => string
): Promise<OpenedBundle> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw toVaultError(e);
  }
  return st.isDirectory() ? openFolder(path, imageNameOf) : openTar(path, imageNameOf);
}

async function openFolder(
  dir: string,
  imageNameOf: (files: Map<string, Uint8Array>) => string
): Promise<OpenedBundle> {
  const files = new Map<string, Uint8Array>();
  for (const name of SMALL_NAMES) {
    try {
      files.set(name, await readFile(join(dir, name)));
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw toVaultError(e);
    }
  }
  if (!files.has(MANIFEST)) {
    throw fail('NOT_AN_IMAGE', `${dir} is not an Image Vault bundle (no ${MANIFEST})`);
  }
  const imagePath = join(dir, imageNameOf(files));
  const imageSize = (await stat(imagePath).catch((e) => Promise.reject(toVaultError(e)))).size;
  return {
    layout: 'folder',
    files,
    imageSize,
    image: () => createReadStream(imagePath),
    finish: async () => undefined,
    close: () => undefined,
  };
}

async function openTar(
  file: string,
  imageNameOf: (files: Map<string, Uint8Array>) => string
): Promise<OpenedBundle> {
  const extract = tar.extract();
  const src = createReadStream(file);
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract);
  const it = extract[Symbol.asyncIterator]();
  const files = new Map<string, Uint8Array>();
  let top: string | undefined;
  let imageName: string | undefined;
  const close = () => {
    src.destroy();
    extract.destroy();
  };
  const next = async () => {
    try {
      return await it.next();
    } catch (e) {
      throw tarError(e);
    }
  };
  try {
    for (;;) {
      const r = await next();
      if (r.done) {
        throw files.has(MANIFEST)
          ? fail('TRUNCATED', 'The bundle file ends before its image')
          : fail('NOT_AN_IMAGE', `${file} is not an Image Vault bundle (no ${MANIFEST})`);
      }
      const entry = r.value;
      const { name: full, type, size = 0 } = entry.header;
      const slash = full.indexOf('/');
      const dir = slash < 0 ? '' : full.slice(0, slash);
      const name = slash < 0 ? full : full.slice(slash + 1);
      if (type === 'directory' && name.replace(/\/$/, '') === '') {
        entry.resume();
        continue;
      }
      top ??= dir;
      if (type !== 'file' || dir !== top || name.includes('/') || name === '' || name === '..') {
        throw fail('CORRUPT', `The bundle holds an unexpected entry: ${full.slice(0, 80)}`);
      }
      if (SMALL_NAMES.has(name) && name !== imageName) {
        if (size > MAX_SMALL_ENTRY) throw fail('CORRUPT', `The bundle entry ${name} is too large`);
        files.set(name, await readEntry(entry));
        continue;
      }
      // Any other name must be the image: the manifest (and signature) are in by now.
      if (!files.has(MANIFEST)) {
        throw fail('NOT_AN_IMAGE', `${file} is not an Image Vault bundle (no ${MANIFEST} first)`);
      }
      imageName ??= imageNameOf(files);
      if (name !== imageName) {
        throw fail(
          'CORRUPT',
          `The bundle holds an unexpected entry before its image: ${name.slice(0, 80)}`
        );
      }
      return {
        layout: 'tar',
        files,
        imageSize: size,
        image: () => entry as unknown as Readable,
        finish: async () => {
          for (;;) {
            const rest = await next();
            if (rest.done) break;
            rest.value.resume();
          }
          close();
        },
        close,
      };
    }
  } catch (e) {
    close();
    throw isVaultError(e) ? e : tarError(e);
  }
}

async function readEntry(entry: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const c of entry) chunks.push(c as Uint8Array);
  } catch (e) {
    throw tarError(e);
  }
  return Buffer.concat(chunks);
}

/** tar-stream's errors in our words. */
export function tarError(e: unknown): Error {
  if (isVaultError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/unexpected end|premature|truncated/i.test(msg)) {
    return fail('TRUNCATED', 'The bundle file is truncated');
  }
  if (/header|checksum|invalid tar/i.test(msg)) {
    return fail('CORRUPT', 'The bundle file is not a valid tar archive');
  }
  return toVaultError(e);
}
