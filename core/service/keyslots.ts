/**
 * Keyslot operations on an image file: finds the LUKS header (raw LUKS device, or the qcow2
 * LUKS region) and delegates to the LUKS module, which follows cryptsetup's write order.
 */
import { fail } from '../api/errors.js';
import type {
  KeyslotAddRequest,
  KeyslotChangeRequest,
  KeyslotRemoveRequest,
} from '../api/types.js';
import { FileDevice } from '../io/file-device.js';
import { testHoldPoint } from './test-hold.js';
import { headerJournalPath, readHeaderJournal } from './header-journal.js';
import type { HeaderIO } from '../formats/encryption.js';
import { probeFormat } from '../formats/probe.js';
import { openQcow2 } from '../formats/qcow2/index.js';
import {
  addKeyslot,
  changePassphrase,
  headerIOForDevice,
  removeKeyslots,
  testPassphrase,
  type KeyslotWriteOptions,
} from '../formats/luks/index.js';

/** Where a LUKS header lives: a raw LUKS file, or the LUKS region of a qcow2 image. */
export interface LuksHeaderContext {
  format: 'luks' | 'qcow2';
}

/**
 * Opens the LUKS header of `path` and runs `fn` on it; the file is closed afterwards. The
 * image stays locked meanwhile (README "Image locks"): for writing, nobody else (QEMU or
 * another of our operations) can open it until the keyslots are consistent again. With
 * `write`, an interrupted header operation (a header journal) is refused first (NEEDS_REPAIR)
 * unless `allowJournal` (header repair, which rolls it back).
 */
export async function withLuksHeader<T>(
  path: string,
  write: boolean,
  fn: (io: HeaderIO, ctx: LuksHeaderContext) => Promise<T>,
  opts: { forceShare?: boolean; allowJournal?: boolean } = {}
): Promise<T> {
  const dev = await FileDevice.open(path, { write, forceShare: !write && opts.forceShare });
  try {
    // Under the image lock: an interrupted header operation must be rolled back first.
    if (write && !opts.allowJournal && (await readHeaderJournal(path))) {
      throw fail(
        'NEEDS_REPAIR',
        `An interrupted header operation left ${headerJournalPath(path)}: roll it back first (image-vault header repair)`
      );
    }
    if (write) await testHoldPoint();
    const format = await probeFormat(dev);
    if (format === 'luks') {
      return await fn(headerIOForDevice(dev, await dev.size()), { format });
    }
    if (format === 'qcow2') {
      const img = await openQcow2(dev);
      if (img.cryptMethod === 1) {
        throw fail(
          'NOT_ENCRYPTED',
          'This image uses legacy AES encryption, which has no keyslots: migrate it to LUKS first'
        );
      }
      const region = img.luksRegion();
      if (!region) throw fail('NOT_ENCRYPTED', `${path} is not encrypted with LUKS`);
      return await fn(region, { format });
    }
    throw fail('NOT_ENCRYPTED', `${path} is a ${format} image without LUKS encryption`);
  } finally {
    await dev.close();
  }
}

/** New-keyslot KDF options of a request (luks2-kdf.ts; LUKS1 uses only the PBKDF2 ones). */
function kdfOptions(req: KeyslotChangeRequest): KeyslotWriteOptions {
  return {
    iterTimeMs: req.iterTimeMs,
    iterations: req.iterations,
    pbkdf: req.pbkdf,
    memoryKiB: req.pbkdfMemoryKiB,
    parallel: req.pbkdfParallel,
  };
}

export function keyslotTest(
  path: string,
  passphrase: Uint8Array,
  opts: { forceShare?: boolean } = {}
): Promise<{ slot: number }> {
  return withLuksHeader(
    path,
    false,
    async (io) => ({ slot: await testPassphrase(io, passphrase) }),
    opts
  );
}

export function keyslotAdd(req: KeyslotAddRequest): Promise<{ slot: number }> {
  return withLuksHeader(req.path, true, async (io) => ({
    slot: await addKeyslot(io, req.passphrase, req.newPassphrase, {
      slot: req.slot,
      ...kdfOptions(req),
    }),
  }));
}

export function keyslotChange(
  req: KeyslotChangeRequest
): Promise<{ slot: number; removed: number[] }> {
  return withLuksHeader(req.path, true, (io) =>
    changePassphrase(io, req.passphrase, req.newPassphrase, kdfOptions(req))
  );
}

export function keyslotRemove(req: KeyslotRemoveRequest): Promise<{ removed: number[] }> {
  if (req.slot === undefined && !req.passphrase) {
    throw fail('INVALID_ARGUMENT', 'Say which keyslot to remove: a slot number or its passphrase');
  }
  return withLuksHeader(req.path, true, async (io) => ({
    removed: await removeKeyslots(io, {
      slot: req.slot,
      passphrase: req.passphrase,
      forceLast: req.forceLast,
    }),
  }));
}
