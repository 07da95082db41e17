/** `image-vault clean DST`: removes what an interrupted job left for DST (issue #13). */
import { cleanLeftovers, sizeText } from '../../jobs/leftovers.js';
import { parseArgs } from '../args.js';
import type { CliIo } from '../io.js';
import { requirePositionals } from './common.js';

const HELP = `image-vault clean [--json] DST

Removes DST.partial and its resume journal (DST.partial.journal), which a convert, migrate
or bundle import leaves when it fails on a full disk or is killed, so it can continue with
--resume. DST itself is never touched. A job still writing DST.partial is refused with
IMAGE_IN_USE; nothing to remove is NOT_FOUND.`;

export const cleanCommand = {
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv, { values: [], flags: ['json'] });
    const [target] = requirePositionals(args, ['DST']) as [string];
    const r = await cleanLeftovers(target);
    if (args.flags.has('json')) io.out(JSON.stringify(r, null, 2));
    else io.out(`Removed ${r.removed.join(', ')} (${sizeText(r.bytes)})`);
    return 0;
  },
};
