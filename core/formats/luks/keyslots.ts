/**
 * Version-neutral unlock and keyslot management: test, add, remove, change for LUKS1
 * (docs/spec/luks1.md §7–§8, docs/spec/qcow2-luks.md §6) and LUKS2 (docs/spec/luks2.md §5, via luks2-keyslots.ts).
 * Write order per docs/DESIGN.md "Data safety": key material + flush before activation; header
 * deactivation + flush before wiping.
 */
import { fail, isVaultError } from '../../api/errors.js';
import { randomBytes } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { detectLuksVersion } from './inspect.js';
import { slotIterations, writeLuks1Header, writeSlotMaterial } from './luks1-format.js';
import {
  disabledSlot,
  keyMaterialSectors,
  LUKS1_SLOTS,
  LUKS_SECTOR,
  type Luks1Header,
} from './luks1-header.js';
import {
  readLuks1Header,
  readLuks1Volume,
  resolveLuks1,
  tryLuks1Slot,
  unlockLuks1,
  unlockLuks1Volume,
  type Luks1Volume,
} from './luks1-unlock.js';
import type { Luks2KdfOptions } from './luks2-kdf.js';
import {
  addLuks2Keyslot,
  assertLuks2Writable,
  luks2ActiveSlots,
  pickLuks2Slot,
  removeLuks2Keyslots,
} from './luks2-keyslots.js';
import { unlockLuks2, unlockLuks2Key } from './luks2-unlock.js';
import { readLuks2Volume, type Luks2Volume } from './luks2-volume.js';
import type { UnlockedLuks } from './unlocked.js';

/** Passes of random data written over a removed slot's key material. */
const WIPE_PASSES = 3;

/**
 * New keyslot parameters. LUKS1 uses `iterTimeMs`/`iterations` (PBKDF2); LUKS2 also takes the
 * KDF type and Argon2 costs (luks2-kdf.ts).
 */
export interface KeyslotWriteOptions extends Luks2KdfOptions {
  slot?: number;
}

/**
 * Recovers the master key (docs/spec/luks1.md §7, docs/spec/luks2.md §4). WRONG_PASSPHRASE when no slot opens;
 * UNSUPPORTED_CIPHER (before any KDF work) when the cipher is unknown.
 */
export async function unlockLuks(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<UnlockedLuks> {
  return (await detectLuksVersion(io)) === 1
    ? unlockLuks1(io, passphrase, opts)
    : unlockLuks2(io, passphrase, opts);
}

/**
 * Returns the slot `passphrase` opens (WRONG_PASSPHRASE otherwise). For LUKS2 only the keyslot
 * and its digest are needed, as `cryptsetup open --test-passphrase`: it works on volumes whose
 * data we cannot read (unknown requirements, unsupported segment cipher).
 */
export async function testPassphrase(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<number> {
  if ((await detectLuksVersion(io)) === 2) {
    const key = await unlockLuks2Key(io, await readLuks2Volume(io), passphrase, opts);
    wipe(key.masterKey);
    return key.slot;
  }
  const u = await unlockLuks(io, passphrase, opts);
  u.dispose();
  return u.slot;
}

/** LUKS1 keyslots are PBKDF2 only (docs/spec/luks1.md §5). */
function checkLuks1Kdf(opts: KeyslotWriteOptions): void {
  if (opts.pbkdf !== undefined && opts.pbkdf !== 'pbkdf2') {
    throw fail('INVALID_ARGUMENT', `LUKS1 keyslots use PBKDF2; ${opts.pbkdf} needs LUKS2`);
  }
}

function checkSlotIndex(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= LUKS1_SLOTS) {
    throw fail('INVALID_ARGUMENT', `Keyslot ${slot} does not exist (LUKS1 has 0..7)`);
  }
}

function pickFreeSlot(vol: Luks1Volume, wanted?: number): number {
  if (wanted !== undefined) {
    checkSlotIndex(wanted);
    if (vol.header.slots[wanted]!.active)
      throw fail('KEYSLOT_ACTIVE', `Keyslot ${wanted} is already in use`);
    return wanted;
  }
  const free = vol.header.slots.findIndex((s) => !s.active);
  if (free < 0) throw fail('NO_FREE_KEYSLOT', 'All 8 keyslots are in use');
  return free;
}

/** Writes key material (flush), then the header with the slot active (flush). */
async function activateSlot(
  io: HeaderIO,
  vol: Luks1Volume,
  index: number,
  masterKey: Uint8Array,
  newPassphrase: Uint8Array,
  opts: KeyslotWriteOptions
): Promise<void> {
  const iters = await slotIterations(vol.hash, vol.header.keyBytes, opts);
  await writeSlotMaterial(io, vol, index, masterKey, newPassphrase, iters);
  await writeLuks1Header(io, vol.header);
}

/** Disables slots in the header (flush), then overwrites their key material (flush). */
async function deactivateSlots(io: HeaderIO, header: Luks1Header, slots: number[]): Promise<void> {
  for (const i of slots) header.slots[i] = disabledSlot(header.slots[i]!.keyOffset);
  await writeLuks1Header(io, header);
  const bytes = keyMaterialSectors(header.keyBytes) * LUKS_SECTOR;
  for (let pass = 0; pass < WIPE_PASSES; pass++) {
    for (const i of slots)
      await io.write(randomBytes(bytes), header.slots[i]!.keyOffset * LUKS_SECTOR);
    await io.flush();
  }
}

/**
 * LUKS2 add (and change, with `removeOld`): one header read, one unlock, the new slot, then
 * the old one removed from the volume as just written (docs/spec/luks2.md §5).
 */
async function addToLuks2(
  io: HeaderIO,
  passphrase: Uint8Array,
  newPassphrase: Uint8Array,
  opts: KeyslotWriteOptions,
  removeOld: boolean
): Promise<{ slot: number; removed: number[] }> {
  const vol: Luks2Volume = await readLuks2Volume(io);
  assertLuks2Writable(vol); // refuses before the KDF runs, the file unchanged
  const slot = pickLuks2Slot(vol, opts.slot);
  const key = await unlockLuks2Key(io, vol, passphrase);
  try {
    const added = await addLuks2Keyslot(io, vol, key, newPassphrase, { ...opts, slot });
    if (!removeOld) return { slot: added.id, removed: [] };
    await removeLuks2Keyslots(io, added.vol, [key.slot]);
    return { slot: added.id, removed: [key.slot] };
  } finally {
    wipe(key.masterKey);
  }
}

/**
 * Adds `newPassphrase` in a free slot (or `opts.slot`) after unlocking with `passphrase`
 * (docs/spec/luks1.md §8 "Add key"). Throws NO_FREE_KEYSLOT, KEYSLOT_ACTIVE, WRONG_PASSPHRASE.
 */
export async function addKeyslot(
  io: HeaderIO,
  passphrase: Uint8Array,
  newPassphrase: Uint8Array,
  opts: KeyslotWriteOptions = {}
): Promise<number> {
  if ((await detectLuksVersion(io)) === 2) {
    return (await addToLuks2(io, passphrase, newPassphrase, opts, false)).slot;
  }
  checkLuks1Kdf(opts);
  const vol = await readLuks1Volume(io);
  const index = pickFreeSlot(vol, opts.slot);
  const { masterKey } = await unlockLuks1Volume(io, vol, passphrase);
  try {
    await activateSlot(io, vol, index, masterKey, newPassphrase, opts);
    return index;
  } finally {
    wipe(masterKey);
  }
}

/** Version-specific access used by `removeKeyslots`. */
interface SlotOps {
  maxSlots: number;
  active: number[];
  opens(slot: number, passphrase: Uint8Array): Promise<boolean>;
  remove(slots: number[]): Promise<void>;
}

async function slotOps(io: HeaderIO): Promise<SlotOps> {
  if ((await detectLuksVersion(io)) === 2) {
    const vol = await readLuks2Volume(io);
    assertLuks2Writable(vol); // refuses before any KDF work, the file unchanged
    return {
      maxSlots: 32,
      active: luks2ActiveSlots(vol),
      opens: async (slot, passphrase) => {
        if (vol.meta.keyslots.find((k) => k.id === slot)?.unusable) return false;
        try {
          wipe((await unlockLuks2Key(io, vol, passphrase, { slot })).masterKey);
          return true;
        } catch (e) {
          if (isVaultError(e, 'WRONG_PASSPHRASE')) return false;
          throw e;
        }
      },
      remove: async (slots) => void (await removeLuks2Keyslots(io, vol, slots)),
    };
  }
  const header = await readLuks1Header(io);
  let vol: Luks1Volume | undefined;
  return {
    maxSlots: LUKS1_SLOTS,
    active: header.slots.flatMap((s, i) => (s.active ? [i] : [])),
    opens: async (slot, passphrase) => {
      vol ??= resolveLuks1(header);
      const mk = await tryLuks1Slot(io, vol, slot, passphrase);
      wipe(mk);
      return mk !== undefined;
    },
    remove: (slots) => deactivateSlots(io, header, slots),
  };
}

/**
 * Removes keyslots (docs/spec/luks1.md §8 "Remove key", docs/spec/luks2.md §5): by `slot`, or every slot
 * `passphrase` opens. When both are given the passphrase must open some active slot. Refuses to
 * leave no active slot (LAST_KEYSLOT) unless `forceLast`. Returns the removed slots.
 */
export async function removeKeyslots(
  io: HeaderIO,
  sel: { slot?: number; passphrase?: Uint8Array; forceLast?: boolean }
): Promise<number[]> {
  const ops = await slotOps(io);
  let targets: number[];
  if (sel.slot !== undefined) {
    if (!Number.isInteger(sel.slot) || sel.slot < 0 || sel.slot >= ops.maxSlots) {
      throw fail('INVALID_ARGUMENT', `Keyslot ${sel.slot} does not exist`);
    }
    if (!ops.active.includes(sel.slot)) {
      throw fail('KEYSLOT_INACTIVE', `Keyslot ${sel.slot} is not active`);
    }
    if (sel.passphrase) {
      // As `cryptsetup luksKillSlot` asks: "any remaining passphrase", i.e. one of another
      // active keyslot; only for the last keyslot is its own passphrase the proof.
      const last = ops.active.length === 1;
      const proofSlots = last ? ops.active : ops.active.filter((i) => i !== sel.slot);
      let ok = false;
      for (const i of proofSlots) if (!ok) ok = await ops.opens(i, sel.passphrase);
      if (!ok) {
        throw fail(
          'WRONG_PASSPHRASE',
          last
            ? 'The passphrase does not open this keyslot'
            : `The passphrase does not open any keyslot other than ${sel.slot}`
        );
      }
    }
    targets = [sel.slot];
  } else if (sel.passphrase) {
    targets = [];
    for (const i of ops.active) if (await ops.opens(i, sel.passphrase)) targets.push(i);
    if (targets.length === 0) {
      throw fail('WRONG_PASSPHRASE', 'The passphrase does not open any keyslot');
    }
  } else {
    throw fail('INVALID_ARGUMENT', 'Name a keyslot or a passphrase to remove');
  }
  if (targets.length === ops.active.length && !sel.forceLast) {
    throw fail(
      'LAST_KEYSLOT',
      targets.length === 1
        ? `Keyslot ${targets[0]} is the only active keyslot; removing it would lock the volume for good`
        : 'The passphrase opens every active keyslot; removing them would lock the volume for good'
    );
  }
  await ops.remove(targets);
  return targets;
}

/**
 * Replaces `oldPassphrase` by `newPassphrase`: adds the new slot (first free, or `opts.slot`),
 * then removes the slot the old passphrase opened (add-then-remove, docs/DESIGN.md). The header is
 * read once and the old passphrase derived once.
 */
export async function changePassphrase(
  io: HeaderIO,
  oldPassphrase: Uint8Array,
  newPassphrase: Uint8Array,
  opts: KeyslotWriteOptions = {}
): Promise<{ slot: number; removed: number[] }> {
  if ((await detectLuksVersion(io)) === 2) {
    return addToLuks2(io, oldPassphrase, newPassphrase, opts, true);
  }
  checkLuks1Kdf(opts);
  const vol = await readLuks1Volume(io);
  const { slot: oldSlot, masterKey } = await unlockLuks1Volume(io, vol, oldPassphrase);
  try {
    const index = pickFreeSlot(vol, opts.slot);
    await activateSlot(io, vol, index, masterKey, newPassphrase, opts);
    await deactivateSlots(io, vol.header, [oldSlot]);
    return { slot: index, removed: [oldSlot] };
  } finally {
    wipe(masterKey);
  }
}
