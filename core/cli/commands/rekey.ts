/** `image-vault rekey`: master-key rotation in place (README "Master-key rotation"). */
import { fail } from '../../api/errors.js';
import type { RekeyRequest } from '../../api/types.js';
import { wipe } from '../../crypto/secret.js';
import { readPassphrase } from '../passphrase.js';
import { checkOptionKeys } from '../option-keys.js';
import {
  givesPassphrase,
  IMAGE_SECRET_HELP,
  namedImage,
  passphraseSecretOptions,
  probeImageDriver,
  resolvePassphrase,
} from '../image-passphrase.js';
import { parseSecretObjects, readSecret } from '../secrets.js';
import { createVaultService } from '../../service/vault-service.js';
import { parseArgs, parseInteger } from '../args.js';
import { humanSize } from '../info-format.js';
import type { CliIo } from '../io.js';
import { followJob, progressMode } from '../job-runner.js';
import { requirePositionals } from './common.js';
import { BATCH_FLAGS, BATCH_VALUE_OPTIONS, runKeyslotBatch, wantsBatch } from './keyslot-batch.js';

const HELP = `image-vault rekey [--passphrase-file F] [--new-passphrase-file G] [--other-passphrase-file H]…
                  [--object secret,id=ID,file=F]... [--secret ID] [--new-secret ID] [--other-secret ID]…
                  [--image-opts] [--drop-other-slots] [--resume] [--progress=json] [--json] IMAGE

Gives a qcow2+LUKS, raw LUKS1 or raw LUKS2 image a fresh random master key in place: a new
LUKS header (same cipher, UUID and KDF costs) and every encrypted sector re-encrypted where it
lies — for qcow2 every allocated cluster of the image and of its internal snapshots;
unallocated clusters and backing files are not touched. Anyone who once held the old master key
(every copy of a handed-out image shares it) can no longer read what the image holds now.

Keyslots: the one the passphrase opens is re-wrapped (for --new-passphrase-file G instead,
when given). Other keyslots cannot be re-wrapped without their passphrases: give them with
--other-passphrase-file (repeatable; each keeps its slot), or drop them with
--drop-other-slots; otherwise the rotation is refused before anything is written.

Space: no copy of the image. The journal IMAGE.rekey-journal (mode 0600) takes about twice the
LUKS header plus 1 MiB: ~5 MiB for qcow2+LUKS, at most ~33 MiB for LUKS2.
Crash safety: killed at any point (or Ctrl-C), the image stays in a "rotation in progress"
state that QEMU and cryptsetup refuse to open, and rekey --resume IMAGE (with the same
passphrase files) finishes it. Keep IMAGE.rekey-journal with the image until then.
The image is locked for the whole run (a running VM's image is refused: exit status 5).
--zone-size N  bytes re-encrypted between two journal records (default 16 MiB).
${IMAGE_SECRET_HELP}
--new-secret ID and --other-secret ID (repeatable) name the new and the other keyslots'
passphrases the same way.

Many images: image-vault rekey IMAGE… [--list FILE] [--jobs N] [--drop-other-slots] [--json]
--passphrase-file F --new-passphrase-file G rotates each image as above (an interrupted
rotation is finished), with the report, skipping and exit statuses of keyslot change over
many images (see image-vault keyslot --help). The new passphrase is required there: an image
the new passphrase already opens (and the old one not) counts as done, so the same command
run again finishes the rest. A started image is finished even after Ctrl-C.`;

export const rekeyCommand = {
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv, {
      values: [
        ...passphraseSecretOptions('passphrase', 'new-passphrase', 'other-passphrase'),
        'object',
        'progress',
        'zone-size',
        ...BATCH_VALUE_OPTIONS,
      ],
      flags: ['resume', 'drop-other-slots', 'json', 'image-opts', ...BATCH_FLAGS],
    });
    parseSecretObjects(args); // refuse data=… and typos before anything is read
    checkOptionKeys(args, []);
    if (wantsBatch('rekey', args)) {
      const others = ['other-passphrase-file', 'other-passphrase-fd', 'other-secret'];
      const given = others.find((o) => args.values.has(o));
      if (given !== undefined) {
        throw fail(
          'INVALID_ARGUMENT',
          `--${given} is for one image: over many images say --drop-other-slots`
        );
      }
      return runKeyslotBatch('rekey', args, {}, undefined, io);
    }
    const [text] = requirePositionals(args, ['IMAGE']) as [string];
    const image = namedImage(args, text, { command: 'rekey' });
    const path = image.path;
    await probeImageDriver(image);
    const mode = progressMode(args.values.get('progress'), io);
    const zone = args.values.get('zone-size');
    const secrets: Uint8Array[] = [];
    try {
      const passphrase = await resolvePassphrase(args, {
        name: 'passphrase',
        prompt: 'Passphrase: ',
        image,
      });
      secrets.push(passphrase);
      let newPassphrase: Uint8Array | undefined;
      const fresh = { name: 'new-passphrase', prompt: 'New passphrase: ', confirm: true };
      if (givesPassphrase(args, fresh)) {
        newPassphrase = await resolvePassphrase(args, fresh);
        secrets.push(newPassphrase);
      }
      const others: Uint8Array[] = [];
      for (const file of args.repeated.get('other-passphrase-file') ?? []) {
        others.push(await readPassphrase({ file, prompt: '' }));
        secrets.push(others.at(-1) as Uint8Array);
      }
      for (const fd of args.repeated.get('other-passphrase-fd') ?? []) {
        const n = parseInteger(fd, '--other-passphrase-fd', 0, 65535);
        others.push(await readPassphrase({ fd: n, prompt: '' }));
        secrets.push(others.at(-1) as Uint8Array);
      }
      for (const id of args.repeated.get('other-secret') ?? []) {
        others.push(readSecret(args, id));
        secrets.push(others.at(-1) as Uint8Array);
      }
      const service = createVaultService();
      const req: RekeyRequest & { zoneBytes?: number } = {
        path,
        passphrase,
        ...(newPassphrase ? { newPassphrase } : {}),
        ...(others.length > 0 ? { otherPassphrases: others } : {}),
        dropOtherSlots: args.flags.has('drop-other-slots'),
        resume: args.flags.has('resume'),
        ...(zone ? { zoneBytes: parseInteger(zone, '--zone-size', 65536, 1 << 30) } : {}),
      };
      const job = await service.startRekey(req);
      const done = await followJob(service, job, io, mode);
      if (done.state !== 'succeeded') {
        const e = done.error ?? { code: 'INTERNAL' as const, message: 'The rotation failed' };
        const code = done.state === 'cancelled' ? 'CANCELLED' : e.code;
        const hint = ` The image is left mid-rotation if it got that far: run rekey --resume ${path}.`;
        throw fail(code, (code === 'CANCELLED' ? 'Cancelled.' : e.message) + hint);
      }
      const r = done.result ?? {};
      if (args.flags.has('json')) io.out(JSON.stringify(r, null, 2));
      else {
        const dropped = (r.droppedSlots as number[]) ?? [];
        io.err(
          `Rotated the master key of ${path}: ${humanSize(Number(r.bytesRekeyed ?? 0))} re-encrypted` +
            `${r.resumed ? ' (resumed)' : ''}; keyslots ${(r.slots as number[]).join(', ')}` +
            (dropped.length > 0 ? `; dropped keyslots ${dropped.join(', ')}` : '')
        );
      }
      return 0;
    } finally {
      wipe(...secrets);
    }
  },
};
