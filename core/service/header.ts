/**
 * Header operations on an image file: `header repair` (roll back an interrupted header
 * operation; rewrite a damaged or out-of-date LUKS2 copy from the valid one, as
 * `cryptsetup repair` does) and `header convert` (LUKS1 ↔ LUKS2 in place, as
 * `cryptsetup convert --type`). Both write through the header journal (header-journal.ts).
 */
import { fail } from '../api/errors.js';
import type {
  HeaderConvertRequest,
  HeaderConvertResult,
  HeaderRepairResult,
} from '../api/types.js';
import { detectLuksVersion } from '../formats/luks/inspect.js';
import { planLuks2Repair } from '../formats/luks/header-repair.js';
import { planLuksConvert } from '../formats/luks/luks-convert.js';
import { readLuks1Header } from '../formats/luks/luks1-unlock.js';
import { needsRepair, readLuks2Volume } from '../formats/luks/luks2-volume.js';
import { applyJournaled, readHeaderJournal, rollBack } from './header-journal.js';
import { withLuksHeader } from './keyslots.js';
import { FileDevice } from '../io/file-device.js';
import { headerIOForDevice } from '../formats/luks/header-io.js';

/**
 * Repairs the LUKS header of `path`: first rolls back an interrupted header operation (its
 * journal), then rewrites a damaged or stale LUKS2 copy. Leaves both copies valid, or says
 * there was nothing to do.
 */
export async function headerRepair(path: string): Promise<HeaderRepairResult> {
  const done: string[] = [];
  let action: HeaderRepairResult['action'] = 'none';
  const rolledBack = (op: string, at: string) => {
    done.push(`Rolled back an interrupted ${op} (started ${at})`);
    action = 'rolled-back';
  };
  // A raw LUKS image is rolled back before anything reads its possibly half-written header.
  const raw = await readHeaderJournal(path);
  if (raw?.container === 'luks') {
    const dev = await FileDevice.open(path, { write: true });
    try {
      await rollBack(path, headerIOForDevice(dev, await dev.size()), raw);
    } finally {
      await dev.close();
    }
    rolledBack(raw.operation, raw.createdAt);
  }
  return withLuksHeader(
    path,
    true,
    async (io, ctx) => {
      const journal = await readHeaderJournal(path);
      if (journal) {
        await rollBack(path, io, journal);
        rolledBack(journal.operation, journal.createdAt);
      }
      if ((await detectLuksVersion(io)) === 2) {
        const plan = await planLuks2Repair(io);
        if (plan.writes.length > 0) {
          await applyJournaled(path, io, 'header repair', plan.writes, ctx.format);
          if (needsRepair((await readLuks2Volume(io)).state)) {
            throw fail('INTERNAL', 'The LUKS2 header still needs repair after rewriting it');
          }
          done.push(plan.description);
          action = 'repaired';
        } else if (action === 'none')
          done.push('Both LUKS2 header copies are valid: nothing to repair');
      } else if (action === 'none') {
        await readLuks1Header(io);
        done.push('LUKS1 keeps a single header copy and it is valid: nothing to repair');
      }
      return { action, description: done.join('; ') };
    },
    { allowJournal: true }
  );
}

/**
 * Converts the raw LUKS image `req.path` to `req.luksVersion` in place. Refuses, before writing
 * anything, what cannot be converted (UNSUPPORTED_FEATURE naming why) and LUKS inside qcow2
 * (QEMU reads only LUKS1 there).
 */
export function headerConvert(req: HeaderConvertRequest): Promise<HeaderConvertResult> {
  const to = req.luksVersion;
  if (to !== 1 && to !== 2) throw fail('INVALID_ARGUMENT', 'The LUKS version must be 1 or 2');
  return withLuksHeader(req.path, true, async (io, ctx) => {
    if (ctx.format !== 'luks') {
      throw fail(
        'UNSUPPORTED_FEATURE',
        'The LUKS header inside a qcow2 image stays LUKS1: QEMU cannot open LUKS2 there'
      );
    }
    const from = await detectLuksVersion(io);
    const plan = await planLuksConvert(io, from, to);
    await applyJournaled(req.path, io, `conversion to LUKS${to}`, plan.writes);
    // Read the result back as the new version before reporting success.
    if (to === 2) await readLuks2Volume(io);
    else await readLuks1Header(io);
    return { from, to, description: plan.description };
  });
}
