/** `create`: a new empty image, optionally encrypted, written to a fresh file. */
import { unlink } from 'node:fs/promises';
import { fail, toVaultError } from '../api/errors.js';
import type { CreateRequest } from '../api/types.js';
import { FileDevice } from '../io/file-device.js';
import { createTarget } from './targets.js';

/** Creates `req.path` (refusing to overwrite); a failure leaves no file behind. */
export async function createImage(req: CreateRequest, threads?: number): Promise<void> {
  if (!(req.virtualSize > 0)) throw fail('INVALID_ARGUMENT', 'The image size must be positive');
  if (req.format === 'luks' && !req.passphrase) {
    throw fail('NEEDS_PASSPHRASE', 'A LUKS image needs a passphrase');
  }
  // Created as qemu-img creates images: 0644 minus the umask (issue #13).
  const dev = await FileDevice.open(req.path, { createExclusive: true, mode: 0o644 });
  let ok = false;
  try {
    const writer = await createTarget(dev, {
      format: req.format,
      virtualSize: req.virtualSize,
      clusterSize: req.clusterSize,
      compat: req.compat,
      passphrase: req.passphrase,
      encryption: req.encryption,
      threads,
    });
    await writer.flush();
    await writer.close();
    ok = true;
  } catch (e) {
    const err = toVaultError(e);
    if (err.code !== 'NO_SPACE') throw err;
    // One line naming what was (not) left (issue #13): a create leaves nothing.
    throw fail('NO_SPACE', `${err.message} writing ${req.path}; nothing was left behind`, e);
  } finally {
    await dev.close().catch(() => undefined);
    if (!ok) await unlink(req.path).catch(() => undefined);
  }
}
