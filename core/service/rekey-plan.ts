/**
 * Planning a master-key rotation (README "Master-key rotation"): unlock the old header, decide
 * which keyslots the new header keeps (the opened one, re-wrapped for the given or the new
 * passphrase; others only for the passphrases given, or dropped on request), and build the new
 * header in memory around a fresh random master key. Nothing is written to the image.
 */
import { fail } from '../api/errors.js';
import type { RekeyRequest } from '../api/types.js';
import { randomBytes } from '../crypto/random.js';
import { wipe } from '../crypto/secret.js';
import type { HeaderIO } from '../formats/encryption.js';
import { inspectLuks } from '../formats/luks/inspect.js';
import { testPassphrase, unlockLuks } from '../formats/luks/keyslots.js';
import { memoryHeaderIO, rewrapLuksHeader, type RewrapSlot } from '../formats/luks/luks-rewrap.js';
import { makeUnlocked, type UnlockedLuks } from '../formats/luks/unlocked.js';
import { readExact, type BlockDevice } from '../io/block-device.js';
import type { RekeyPlan } from '../jobs/rekey-journal.js';
import type { RekeyTarget } from './rekey-target.js';

/** Everything of a {@link RekeyRequest} but the path, plus tuning. */
export interface RekeyOptions extends Omit<RekeyRequest, 'path'> {
  /** Crypto worker threads per key (default: the number of cores). */
  threads?: number;
  /** Bytes re-encrypted between two journal records (default 16 MiB; tests use less). */
  zoneBytes?: number;
}

/** Default zone: 16 MiB between records (two fsyncs each). */
export const DEFAULT_ZONE_BYTES = 16 * 1024 * 1024;
const MAX_RANGES = 4096;

export interface PlannedRekey {
  plan: RekeyPlan;
  oldHeader: Uint8Array;
  newHeader: Uint8Array;
  /** The old and the new master key, unlocked (the caller disposes them). */
  oldKey: UnlockedLuks;
  newKey: UnlockedLuks;
}

/**
 * Unlocks the image's header with `opts.passphrase` and builds the new one.
 * @throws `WRONG_PASSPHRASE` (also for an `otherPassphrases` entry no keyslot takes),
 *   `KEYSLOT_ACTIVE` (keyslots without a passphrase and no `dropOtherSlots`).
 */
export async function planRekey(
  dev: BlockDevice,
  target: RekeyTarget,
  rawIO: HeaderIO | undefined,
  opts: RekeyOptions
): Promise<PlannedRekey> {
  let region = target.region;
  if (!region) {
    const u = await unlockLuks(rawIO!, opts.passphrase);
    u.dispose();
    region = { offset: 0, length: u.payloadOffset };
  }
  const oldHeader = await readExact(dev, region.length, region.offset, 'LUKS header region');
  const io = () => memoryHeaderIO(oldHeader.slice());
  const u0 = await unlockLuks(io(), opts.passphrase);
  const newKey = randomBytes(u0.masterKey.length);
  try {
    const info = await inspectLuks(io());
    const slots: RewrapSlot[] = [
      { slot: u0.slot, passphrase: opts.newPassphrase ?? opts.passphrase },
    ];
    const kinds: RekeyPlan['slots'] = [
      { slot: u0.slot, passphrase: opts.newPassphrase ? 'new' : 'given' },
    ];
    for (const [i, p] of (opts.otherPassphrases ?? []).entries()) {
      const slot = await testPassphrase(io(), p);
      if (slots.some((s) => s.slot === slot)) continue;
      slots.push({ slot, passphrase: p });
      kinds.push({ slot, passphrase: `other-${i}` });
    }
    const active = info.slots.filter((s) => s.active).map((s) => s.slot);
    const dropped = active.filter((s) => !slots.some((k) => k.slot === s));
    if (dropped.length > 0 && !opts.dropOtherSlots) {
      throw fail(
        'KEYSLOT_ACTIVE',
        `Keyslot${dropped.length > 1 ? 's' : ''} ${dropped.join(', ')} hold${dropped.length > 1 ? '' : 's'} ` +
          'passphrases that were not given: they cannot be re-wrapped for the new master key. ' +
          'Give them (--other-passphrase-file) or drop them (--drop-other-slots)'
      );
    }
    const newHeader = await rewrapLuksHeader(oldHeader, newKey, slots);
    const plan: RekeyPlan = {
      kind: target.kind,
      luksVersion: u0.version,
      region,
      unit: u0.sectorSize,
      qcow2Bit: target.qcow2Version === 3,
      slots: kinds,
      droppedSlots: dropped,
      uuid: info.uuid ?? '',
      zoneBytes: opts.zoneBytes ?? DEFAULT_ZONE_BYTES,
      maxRanges: MAX_RANGES,
      createdAt: new Date().toISOString(),
    };
    const { dispose: _d, ...fields } = u0;
    void _d;
    const next = makeUnlocked({ ...fields, masterKey: newKey });
    return { plan, oldHeader, newHeader, oldKey: u0, newKey: next };
  } catch (e) {
    wipe(newKey);
    u0.dispose();
    throw e;
  }
}
