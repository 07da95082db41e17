/** `image-vault header backup|restore` (docs/decisions.md "Header backup and restore"). */
import { resolve } from 'node:path';
import { headerBackup } from '../../service/header-backup.js';
import { headerRestore } from '../../service/header-restore.js';
import type { ParsedArgs } from '../args.js';
import type { CliIo } from '../io.js';
import { forceShare, requirePositionals } from './common.js';
import {
  givesPassphrase,
  namedImage,
  probeImageDriver,
  resolvePassphrase,
} from '../image-passphrase.js';

export const HEADER_BACKUP_HELP = `image-vault header backup [--json] [-U] IMAGE FILE
image-vault header restore IMAGE FILE [--passphrase-file F | --secret ID] [--dry-run] [--force] [--json]

backup   Writes the LUKS header of IMAGE to the new file FILE (refused if it exists). For a
         raw LUKS1/LUKS2 image FILE is byte for byte what cryptsetup luksHeaderBackup writes
         (cryptsetup luksHeaderRestore takes it). For qcow2+LUKS it is the LUKS region of the
         qcow2 file in image-vault's wrapper, which records the image's identity (LUKS UUID
         and master key, virtual size, cluster size, region) and a SHA-256.
restore  Writes FILE back: verifies it first (LUKS validity, checksums; with a passphrase,
         that it opens the backup), refuses a backup of another geometry, and one of
         another LUKS UUID, master key, LUKS version or virtual size unless --force. The
         header it replaces is kept in IMAGE.header.bak (IMAGE.header.N.bak if that exists),
         itself a backup (restore it to undo). Old passphrases of the backup come back;
         passphrases added or changed since stop working. --dry-run only reports this.
         Takes cryptsetup's backups as well as ours.`;

/** Runs `header backup` or `header restore`. */
export async function runHeaderBackup(
  sub: 'backup' | 'restore',
  args: ParsedArgs,
  io: CliIo
): Promise<number> {
  const [text, file] = requirePositionals(args, ['IMAGE', 'FILE']) as [string, string];
  const image = namedImage(args, text, { command: `header ${sub}` });
  const path = image.path;
  await probeImageDriver(image);
  const json = args.flags.has('json');
  if (sub === 'backup') {
    const r = await headerBackup({ path, file: resolve(file), forceShare: forceShare(args) });
    io.out(json ? JSON.stringify(r, null, 2) : r.description);
    return 0;
  }
  const want = { name: 'passphrase', prompt: 'Passphrase: ', image };
  const passphrase = givesPassphrase(args, want) ? await resolvePassphrase(args, want) : undefined;
  try {
    const r = await headerRestore({
      path,
      file,
      passphrase,
      force: args.flags.has('force'),
      dryRun: args.flags.has('dry-run'),
    });
    if (json) io.out(JSON.stringify(r, null, 2));
    else {
      io.out(r.description);
      for (const m of r.mismatches) io.out(`Warning: ${m}`);
    }
    return 0;
  } finally {
    passphrase?.fill(0);
  }
}
