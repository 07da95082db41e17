/**
 * What a batch does to one image, per operation (issue #17, "Many images at once"). Each
 * action is idempotent, so re-running a batch finishes what an earlier run left: an image
 * where the work is already done is reported `unchanged`, never changed twice or failed.
 *
 * The keyslot writes themselves are the single-image ones (keyslots.ts), with their write
 * order and locks (docs/DESIGN.md "Data safety"); this module only decides what "already
 * done" means for each operation. Adding an operation (e.g. a master-key rotation) is one
 * entry in `BATCH_ACTIONS` and its name in `BATCH_OPERATIONS` (core/api/batch-schemas.ts).
 */
import { access } from 'node:fs/promises';
import { fail, isVaultError } from '../api/errors.js';
import type { BatchHolder, BatchItem, BatchOperation, BatchRequest } from '../api/types.js';
import { FileDevice } from '../io/file-device.js';
import { journalPathForImage } from '../jobs/rekey-journal.js';
import { keyslotAdd, keyslotChange, keyslotRemove, keyslotTest } from './keyslots.js';
import { rekey } from './rekey.js';

/** The final part of an item an action reports: `changed` or `unchanged`, and what. */
export type BatchOutcome = Pick<BatchItem, 'slot' | 'removed'> & {
  status: 'changed' | 'unchanged';
  reason: string;
};

/** One image's work; throws a `VaultError` when the image is not changed. */
export type BatchAction = (req: BatchRequest, path: string) => Promise<BatchOutcome>;

const list = (slots: number[]) => slots.join(', ');

function need(bytes: Uint8Array | undefined, what: string): Uint8Array {
  if (!bytes) throw fail('INVALID_ARGUMENT', `This batch needs ${what}`);
  return bytes;
}

/** The keyslot `passphrase` opens on `path`, or undefined when it opens none. */
async function slotOpenedBy(path: string, passphrase: Uint8Array): Promise<number | undefined> {
  try {
    return (await keyslotTest(path, passphrase)).slot;
  } catch (e) {
    if (isVaultError(e, 'WRONG_PASSPHRASE')) return undefined;
    throw e;
  }
}

function kdf(req: BatchRequest) {
  return {
    iterTimeMs: req.iterTimeMs,
    iterations: req.iterations,
    pbkdf: req.pbkdf,
    pbkdfMemoryKiB: req.pbkdfMemoryKiB,
    pbkdfParallel: req.pbkdfParallel,
  };
}

/**
 * change: add the new passphrase, then remove the keyslot the current one opens. When the
 * current passphrase opens nothing but the new one does, an earlier run already did it.
 */
const change: BatchAction = async (req, path) => {
  const passphrase = need(req.passphrase, 'the current passphrase');
  const newPassphrase = need(req.newPassphrase, 'the new passphrase');
  try {
    const r = await keyslotChange({ path, passphrase, newPassphrase, ...kdf(req) });
    return {
      status: 'changed',
      slot: r.slot,
      removed: r.removed,
      reason: `new passphrase in keyslot ${r.slot}; removed keyslot ${list(r.removed)}`,
    };
  } catch (e) {
    if (!isVaultError(e, 'WRONG_PASSPHRASE')) throw e;
    const slot = await slotOpenedBy(path, newPassphrase);
    if (slot === undefined) throw e;
    return {
      status: 'unchanged',
      slot,
      reason: `already done: the new passphrase opens keyslot ${slot}, the current one none`,
    };
  }
};

/** add: unless the new passphrase already opens the image, add it to a free keyslot. */
const add: BatchAction = async (req, path) => {
  const passphrase = need(req.passphrase, 'a passphrase that opens the images');
  const newPassphrase = need(req.newPassphrase, 'the new passphrase');
  const already = await slotOpenedBy(path, newPassphrase);
  if (already !== undefined) {
    return {
      status: 'unchanged',
      slot: already,
      reason: `already done: the new passphrase opens keyslot ${already}`,
    };
  }
  const r = await keyslotAdd({ path, passphrase, newPassphrase, slot: req.slot, ...kdf(req) });
  return { status: 'changed', slot: r.slot, reason: `new passphrase in keyslot ${r.slot}` };
};

/**
 * remove: by passphrase, every keyslot it opens (none left: already done, or never there);
 * by number, that keyslot (inactive: already done). The last keyslot needs `forceLast`.
 */
const remove: BatchAction = async (req, path) => {
  try {
    const r = await keyslotRemove({
      path,
      slot: req.slot,
      passphrase: req.slot === undefined ? req.passphrase : undefined,
      forceLast: req.forceLast,
    });
    return { status: 'changed', removed: r.removed, reason: `removed keyslot ${list(r.removed)}` };
  } catch (e) {
    if (req.slot === undefined && isVaultError(e, 'WRONG_PASSPHRASE')) {
      return {
        status: 'unchanged',
        removed: [],
        reason: 'nothing to remove: no keyslot opens with this passphrase (already removed?)',
      };
    }
    if (req.slot !== undefined && isVaultError(e, 'KEYSLOT_INACTIVE')) {
      return {
        status: 'unchanged',
        removed: [],
        reason: `nothing to remove: keyslot ${req.slot} is already inactive`,
      };
    }
    throw e;
  }
};

/**
 * rekey: a fresh master key (README "Master-key rotation"), the opened keyslot re-wrapped for
 * the new passphrase. An interrupted rotation (its journal beside the image) is finished. When
 * the current passphrase opens nothing but the new one does, an earlier run did it (or the
 * passphrase was changed without a rotation: the batch cannot tell, and says so).
 */
const rotate: BatchAction = async (req, path) => {
  const passphrase = need(req.passphrase, 'the current passphrase');
  const newPassphrase = need(req.newPassphrase, 'the new passphrase');
  const resume = await access(journalPathForImage(path)).then(
    () => true,
    () => false
  );
  try {
    const r = await rekey(path, {
      passphrase,
      newPassphrase,
      dropOtherSlots: req.dropOtherSlots,
      resume,
    });
    const mib = (r.bytesRekeyed / 2 ** 20).toFixed(1);
    const dropped = r.droppedSlots.length > 0 ? `; dropped keyslot ${list(r.droppedSlots)}` : '';
    return {
      status: 'changed',
      slot: r.slots[0],
      removed: r.droppedSlots,
      reason:
        `new master key${resume ? ' (finished an interrupted rotation)' : ''}, ${mib} MiB ` +
        `re-encrypted; new passphrase in keyslot ${r.slots[0]}${dropped}`,
    };
  } catch (e) {
    if (resume || !isVaultError(e, 'WRONG_PASSPHRASE')) throw e;
    const slot = await slotOpenedBy(path, newPassphrase);
    if (slot === undefined) throw e;
    return {
      status: 'unchanged',
      slot,
      reason: `already done: the new passphrase opens keyslot ${slot}, the current one none (rotated by an earlier run, or its passphrase changed)`,
    };
  }
};

/** The action of each batch operation. */
export const BATCH_ACTIONS: Record<BatchOperation, BatchAction> = {
  'keyslot-change': change,
  'keyslot-add': add,
  'keyslot-remove': remove,
  rekey: rotate,
};

/**
 * Who holds `path` (for an image skipped as `IMAGE_IN_USE`), read with a sharing open like
 * `qemu-img -U`; undefined when it cannot be told (or the holder is gone already).
 */
export async function holderOf(path: string): Promise<BatchHolder | undefined> {
  let dev: FileDevice | undefined;
  try {
    dev = await FileDevice.open(path, { forceShare: true, waitMs: 0 });
    const use = await dev.imageUse({ ignoreOwnReaders: true });
    if (!use) return undefined;
    const h: BatchHolder = { writer: use.writer };
    if (use.pid !== undefined) h.pid = use.pid;
    if (use.holder !== undefined) h.holder = use.holder;
    return h;
  } catch {
    return undefined;
  } finally {
    await dev?.close().catch(() => undefined);
  }
}
