/** `image-vault header repair|convert|backup|restore`. */
import { fail } from '../../api/errors.js';
import { headerConvert, headerRepair } from '../../service/header.js';
import { parseArgs, parseInteger } from '../args.js';
import type { CliIo } from '../io.js';
import { FORCE_SHARE_FLAGS, requirePositionals } from './common.js';
import { checkOptionKeys } from '../option-keys.js';
import {
  givesPassphrase,
  IMAGE_SECRET_HELP,
  namedImage,
  passphraseSecretOptions,
  probeImageDriver,
} from '../image-passphrase.js';
import { parseSecretObjects } from '../secrets.js';
import { HEADER_BACKUP_HELP, runHeaderBackup } from './header-backup.js';

const HELP = `image-vault header repair [--json] IMAGE
image-vault header convert IMAGE --luks-version 1|2 [--json]

repair   Rolls back a header operation that was interrupted (its IMAGE.luks-journal), then
         rewrites a damaged or out-of-date LUKS2 header copy from the valid one, as
         cryptsetup repair does. Raw LUKS2 images and LUKS2 inside qcow2. Needs no passphrase.
convert  Converts a raw LUKS image's header in place, as cryptsetup convert --type does:
         keyslots, passphrases and data stay. Refused (nothing written) when the header
         cannot be expressed in the other version: argon2 keyslots, tokens, 4096-byte
         sectors or more than 8 keyslots for LUKS1; an old or QEMU-made LUKS1 layout with no
         room to move the keyslots for LUKS2. qcow2+LUKS stays LUKS1 (QEMU needs it).
Both write through a journal: if interrupted, run header repair to roll back.

${HEADER_BACKUP_HELP}

Every header command takes IMAGE as --image-opts driver=…,file.filename=IMAGE too (with
--object secret,id=ID,file=F…); only restore reads the secret, as its --passphrase-file.
${IMAGE_SECRET_HELP}`;

export const headerCommand = {
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    const args = parseArgs(rest, {
      values: ['luks-version', 'object', ...passphraseSecretOptions('passphrase')],
      flags: ['json', 'force', 'dry-run', 'image-opts', ...FORCE_SHARE_FLAGS],
    });
    parseSecretObjects(args); // refuse data=… and typos before anything is read
    checkOptionKeys(args, []);
    if (sub !== 'restore' && givesPassphrase(args, { name: 'passphrase', prompt: '' })) {
      throw fail('INVALID_ARGUMENT', `header ${sub ?? ''} needs no passphrase (only restore)`);
    }
    if (sub === 'backup' || sub === 'restore') return runHeaderBackup(sub, args, io);
    const [text] = requirePositionals(args, ['IMAGE']) as [string];
    const image = namedImage(args, text, { command: `header ${sub ?? ''}` });
    const path = image.path;
    await probeImageDriver(image);
    const json = args.flags.has('json');
    switch (sub) {
      case 'repair': {
        const r = await headerRepair(path);
        io.out(json ? JSON.stringify(r, null, 2) : r.description);
        return 0;
      }
      case 'convert': {
        const v = args.values.get('luks-version');
        if (v === undefined) throw fail('INVALID_ARGUMENT', 'Say --luks-version 1 or 2');
        const to = parseInteger(v, '--luks-version', 1, 2) as 1 | 2;
        const r = await headerConvert({ path, luksVersion: to });
        io.out(json ? JSON.stringify(r, null, 2) : r.description);
        return 0;
      }
      default:
        throw fail(
          'INVALID_ARGUMENT',
          `Unknown header command "${sub ?? ''}" (repair, convert, backup, restore)`
        );
    }
  },
};
