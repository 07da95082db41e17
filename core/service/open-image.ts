/**
 * Opens any supported image for reading guest bytes: probes the format, wires the
 * container to its encryption scheme (qcow2 → LUKS region or legacy AES; raw LUKS), and
 * resolves backing chains the way QEMU does (relative to the image's directory), refusing
 * loops.
 */
import { access, realpath } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';
import { FileDevice } from '../io/file-device.js';
import type { GuestReader } from '../formats/image.js';
import type { DataCipher } from '../crypto/data-cipher.js';
import type { HeaderIO } from '../formats/encryption.js';
import { probeFormat, type ProbedFormat } from '../formats/probe.js';
import { openQcow2 } from '../formats/qcow2/index.js';
import { openQcow } from '../formats/qcow/index.js';
import { openRaw } from '../formats/raw/index.js';
import { openRawLuks, unlockLuks, dataCipherFor } from '../formats/luks/index.js';
import { createCryptoPool, poolDataCipher } from '../crypto/crypto-pool.js';
import { legacyAesKey, LEGACY_AES_SPEC } from '../crypto/sector-cipher.js';

/** Deepest backing chain we follow (QEMU has no fixed limit; this bounds hostile chains). */
export const MAX_BACKING_DEPTH = 64;

export interface OpenImageOptions {
  /** Passphrase for encrypted layers (tried on every layer without its own below). */
  passphrase?: Uint8Array;
  /**
   * Per-layer passphrases of the backing chain, like qemu-img's
   * `backing.encrypt.key-secret`: index 0 is the backing file, 1 its backing file, …
   */
  backingPassphrases?: (Uint8Array | undefined)[];
  /** Worker threads for bulk crypto (default: the pool's default). */
  threads?: number;
  /** Forced format of the top image (a backing format from the header extension). */
  format?: string;
  /** Ignore the backing file: unallocated ranges read as zeros (used with --keep-backing). */
  topLayerOnly?: boolean;
  /**
   * Read even while a writer holds the image (`-U` / `--force-share`, like qemu-img's): every
   * layer is opened with a lock that shares writing (README "Image locks").
   */
  forceShare?: boolean;
  /**
   * Read the top image's data with `O_DIRECT` (large aligned reads): for an output we just
   * wrote with `O_DIRECT`, which is not in the page cache, so a buffered read would only add
   * page-cache inserts and copies (the verify pass of `convert`, docs/DESIGN.md).
   */
  directReads?: boolean;
}

/** Resolves a backing file name like QEMU: relative names are relative to the image's directory. */
export function resolveBackingPath(imagePath: string, backing: string): string {
  return isAbsolute(backing) ? backing : resolve(dirname(imagePath), backing);
}

/** Opens `path` read-only as a `GuestReader`, following its backing chain. */
export async function openImage(path: string, opts: OpenImageOptions = {}): Promise<GuestReader> {
  return openLayer(path, opts, []);
}

/** Errors already naming their layer ("The backing file X: …"), not named twice. */
const named = new WeakSet<object>();

/** Names the backing layer an error happened in (e.g. a wrong passphrase of that layer). */
function nameLayer(e: unknown, what: string): never {
  if (typeof e === 'object' && e !== null && named.has(e)) throw e;
  const err = toVaultError(e);
  const out = fail(err.code, `${what}: ${err.message}`, e);
  named.add(out);
  throw out;
}

async function openLayer(
  path: string,
  opts: OpenImageOptions,
  chain: string[]
): Promise<GuestReader> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw fail('NOT_FOUND', `Image not found: ${path}`);
  }
  if (chain.includes(real)) {
    throw fail('BACKING_LOOP', `Backing chain loops back to ${path}`);
  }
  if (chain.length >= MAX_BACKING_DEPTH) {
    throw fail('CORRUPT', `Backing chain deeper than ${MAX_BACKING_DEPTH} images`);
  }
  const nextChain = [...chain, real];
  await refuseHalfRotated(path);
  const dev = await FileDevice.open(path, { forceShare: opts.forceShare }).catch((e: unknown) => {
    // Name the layer: a hostile image points its backing file at a FIFO, a device, /proc…
    const parent = chain[chain.length - 1];
    if (parent === undefined) throw toVaultError(e);
    nameLayer(e, `The backing file of ${parent}`);
  });
  const depth = chain.length;
  const passphrase =
    depth === 0 ? opts.passphrase : (opts.backingPassphrases?.[depth - 1] ?? opts.passphrase);
  try {
    if (opts.directReads && chain.length === 0) await dev.useDirectReads();
    const probed = await probeFormat(dev);
    const format = pickFormat(probed, opts.format, path);
    const openBacking = opts.topLayerOnly
      ? undefined
      : (backing: string, backingFormat: string | undefined) => {
          const file = resolveBackingPath(path, backing);
          return openLayer(file, { ...opts, format: backingFormat }, nextChain).catch(
            (e: unknown) => nameLayer(e, `The backing file ${file}`)
          );
        };
    const unlock = makeUnlock(passphrase, opts.threads);
    switch (format) {
      case 'qcow2':
        return await openQcow2(dev, { openBacking, unlock });
      case 'qcow':
        return await openQcow(dev, {
          openBacking,
          unlock: unlock ? () => unlock('aes', undefined) : undefined,
        });
      case 'luks':
        return await openRawLuks(dev, { passphrase, threads: opts.threads });
      default:
        // Holes found with SEEK_DATA are skipped (core/formats/raw). Where the file system
        // hides them, they are read: then a mostly sparse source reads them directly.
        if (
          !(await dev.dataSeeker()).holesReported &&
          (await dev.allocatedBytes()) < (await dev.size()) / 2
        ) {
          await dev.useDirectReads();
        }
        return await openRaw(dev);
    }
  } catch (e) {
    await dev.close().catch(() => undefined);
    throw e;
  }
}

function pickFormat(probed: ProbedFormat, forced: string | undefined, path: string): ProbedFormat {
  if (forced === undefined || forced === '') return probed;
  if (forced === 'raw') return 'raw';
  if (forced !== probed) {
    throw fail('CORRUPT', `${path} was declared as ${forced} but looks like ${probed}`);
  }
  return probed;
}

type Unlock = (kind: 'luks' | 'aes', region: HeaderIO | undefined) => Promise<DataCipher>;

function makeUnlock(passphrase: Uint8Array | undefined, poolThreads?: number): Unlock | undefined {
  if (!passphrase) return undefined;
  return async (kind, region) => {
    if (kind === 'luks') {
      if (!region) throw fail('CORRUPT', 'LUKS-encrypted image without a LUKS header region');
      const unlocked = await unlockLuks(region, passphrase);
      try {
        return await dataCipherFor(unlocked, { threads: poolThreads });
      } finally {
        unlocked.dispose();
      }
    }
    const key = legacyAesKey(passphrase);
    try {
      // CBC decryption is about twice as cheap as XTS: half the workers keep up with a LUKS
      // output's encryption and leave the cores to it (measured ~10 % faster migrations).
      const all = poolThreads ?? availableParallelism();
      const threads = all === 0 ? 0 : Math.max(1, Math.floor(all / 2));
      return poolDataCipher(createCryptoPool(LEGACY_AES_SPEC, key, { threads }), 512);
    } finally {
      key.fill(0);
    }
  };
}

/**
 * An image whose master-key rotation was interrupted is read by nobody until `rekey --resume`
 * has finished it (README "Master-key rotation"): part of it is under the new key.
 */
async function refuseHalfRotated(path: string): Promise<void> {
  const journal = `${path}.rekey-journal`;
  const pending = await access(journal).then(
    () => true,
    () => false
  );
  if (pending) {
    throw fail(
      'UNSUPPORTED_FEATURE',
      `A master-key rotation of ${path} was interrupted: finish it with image-vault rekey --resume`
    );
  }
}
