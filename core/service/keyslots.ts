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
import type { HeaderIO } from '../formats/encryption.js';
import { probeFormat } from '../formats/probe.js';
import { openQcow2 } from '../formats/qcow2/index.js';
import {
  addKeyslot,
  changePassphrase,
  headerIOForDevice,
  removeKeyslots,
  testPassphrase,
} from '../formats/luks/index.js';

/**
 * Opens the LUKS header of `path` and runs `fn` on it; the file is closed afterwards. The
 * image stays locked meanwhile (README "Image locks"): for writing, nobody else (QEMU or
 * another of our operations) can open it until the keyslots are consistent again.
 */
export async function withLuksHeader<T>(
  path: string,
  write: boolean,
  fn: (io: HeaderIO) => Promise<T>,
  opts: { forceShare?: boolean } = {}
): Promise<T> {
  const dev = await FileDevice.open(path, { write, forceShare: !write && opts.forceShare });
  try {
    if (write) await testHoldPoint();
    const format = await probeFormat(dev);
    if (format === 'luks') return await fn(headerIOForDevice(dev, await dev.size()));
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
      return await fn(region);
    }
    throw fail('NOT_ENCRYPTED', `${path} is a ${format} image without LUKS encryption`);
  } finally {
    await dev.close();
  }
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
      iterTimeMs: req.iterTimeMs,
      iterations: req.iterations,
    }),
  }));
}

export function keyslotChange(
  req: KeyslotChangeRequest
): Promise<{ slot: number; removed: number[] }> {
  return withLuksHeader(req.path, true, (io) =>
    changePassphrase(io, req.passphrase, req.newPassphrase, {
      iterTimeMs: req.iterTimeMs,
      iterations: req.iterations,
    })
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
