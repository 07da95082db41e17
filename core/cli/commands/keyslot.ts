/** `image-vault keyslot list|test|add|change|remove`. */
import { fail } from '../../api/errors.js';
import { inspectImage } from '../../service/inspect.js';
import { keyslotAdd, keyslotChange, keyslotRemove, keyslotTest } from '../../service/keyslots.js';
import { parseArgs, parseInteger, type ParsedArgs } from '../args.js';
import { slotJson, slotLines } from '../info-format.js';
import type { CliIo } from '../io.js';
import { checkOptionKeys, ENCRYPT_OPTION_KEYS } from '../option-keys.js';
import {
  encryptOptions,
  FORCE_SHARE_FLAGS,
  FORCE_SHARE_HELP,
  forceShare,
  kdfArgs,
  KDF_VALUE_OPTIONS,
  requirePositionals,
} from './common.js';
import {
  givesPassphrase,
  IMAGE_SECRET_HELP,
  namedImage,
  passphraseSecretOptions,
  probeImageDriver,
  resolvePassphrase,
} from '../image-passphrase.js';
import { parseSecretObjects } from '../secrets.js';
import {
  BATCH_FLAGS,
  BATCH_HELP,
  BATCH_VALUE_OPTIONS,
  runKeyslotBatch,
  wantsBatch,
} from './keyslot-batch.js';

const HELP = `image-vault keyslot list [--json] [-U] IMAGE
image-vault keyslot test [-U] IMAGE --passphrase-file F
image-vault keyslot add IMAGE --passphrase-file EXISTING --new-passphrase-file NEW [--slot N] [--iter-time MS]
image-vault keyslot change IMAGE --passphrase-file OLD --new-passphrase-file NEW [--iter-time MS]
image-vault keyslot remove IMAGE (--slot N | --passphrase-file REVOKED) [--force-last]
image-vault keyslot change|add|remove [IMAGE…] [--list FILE] [--jobs N] [--json] …
image-vault keyslot test|add|change|remove --object secret,id=ID,file=F... --image-opts
    driver=qcow2,file.filename=IMAGE,encrypt.key-secret=ID [--new-secret ID2] …

Manages the LUKS passphrases of a qcow2+LUKS or raw LUKS image without re-encrypting it.
On LUKS2 a new keyslot uses the KDF of the keyslot the passphrase opened (argon2id on an
argon2id volume), benchmarked like cryptsetup; --pbkdf pbkdf2|argon2i|argon2id, --pbkdf-memory
KIB, --pbkdf-parallel N and --pbkdf-force-iterations N choose it. Removing a LUKS2 keyslot also
drops it from the tokens that reference it, as cryptsetup luksKillSlot does.
list needs no passphrase. A wrong passphrase exits with status 4. Removing the last
active keyslot would make the image unreadable forever: it is refused without --force-last.
Passphrase options also accept -fd variants (--passphrase-fd N); - reads stdin.
${IMAGE_SECRET_HELP}
For add and change the secret is the existing passphrase (for remove: the one to revoke, or
with --slot N one that opens another keyslot, as cryptsetup luksKillSlot asks for);
--new-secret ID names the new one (instead of --new-passphrase-file). Over many images
(no --image-opts there) --secret ID and --new-secret ID are read once for all.
add, change and remove lock the image while they work: an image a VM or another program
holds, or that another of our operations is changing, is refused with IMAGE_IN_USE
(exit status 5), and QEMU refuses the image until they are done.
--json prints the result as JSON (list: the keyslots; test, add, change, remove:
{"path", "slot", "removed"}); a failure then prints {"error": {"code", "message"}}.
list, test: ${FORCE_SHARE_HELP}

${BATCH_HELP}`;

/** `-o` keys keyslot commands cannot honour, and what to say instead. */
const KEYSLOT_REFUSED_KEYS: Record<string, string> = {
  'encrypt.key-secret':
    'the existing passphrase is --image-opts …encrypt.key-secret=ID or --secret ID',
  'encrypt.new-secret': "qemu-img amend's keyslot options are not taken; say --new-secret ID",
  'new-secret': "qemu-img amend's keyslot options are not taken; say --new-secret ID",
};

/** Refuses `-o` keys before any passphrase is read: only add and change take KDF keys. */
function checkKeyslotOptions(args: ParsedArgs, sub: string | undefined): void {
  const kdf = sub === 'add' || sub === 'change';
  checkOptionKeys(
    args,
    kdf ? ENCRYPT_OPTION_KEYS.filter((k) => !(k in KEYSLOT_REFUSED_KEYS)) : [],
    KEYSLOT_REFUSED_KEYS
  );
}

function iterOptions(args: ParsedArgs) {
  const enc = encryptOptions(args);
  const kdf = kdfArgs(args);
  const t = args.values.get('iter-time');
  const i = args.values.get('iterations');
  return {
    ...kdf,
    iterTimeMs: t ? parseInteger(t, '--iter-time', 1, 600_000) : enc.iterTimeMs,
    iterations: i ? parseInteger(i, '--iterations', 1) : (kdf.iterations ?? enc.iterations),
  };
}

export const keyslotCommand = {
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    const args = parseArgs(rest, {
      values: [
        ...passphraseSecretOptions('passphrase', 'new-passphrase'),
        'object',
        'slot',
        'iter-time',
        'iterations',
        ...KDF_VALUE_OPTIONS,
        ...BATCH_VALUE_OPTIONS,
      ],
      flags: ['json', 'force-last', 'image-opts', ...FORCE_SHARE_FLAGS, ...BATCH_FLAGS],
    });
    parseSecretObjects(args); // refuse data=… and typos before anything is read
    checkKeyslotOptions(args, sub);
    if (forceShare(args) && sub !== 'list' && sub !== 'test') {
      throw fail('INVALID_ARGUMENT', '-U / --force-share is for reading only (keyslot list, test)');
    }
    const slot = args.values.has('slot')
      ? parseInteger(args.values.get('slot') as string, '--slot', 0, 31)
      : undefined;
    if (sub !== 'rekey' && wantsBatch(sub, args)) {
      return runKeyslotBatch(sub as string, args, iterOptions(args), slot, io);
    }
    const [text] = requirePositionals(args, ['IMAGE']) as [string];
    const image = namedImage(args, text, { command: `keyslot ${sub ?? ''}` });
    const path = image.path;
    await probeImageDriver(image);
    const existing = (prompt: string) =>
      resolvePassphrase(args, { name: 'passphrase', prompt, image });
    const fresh = () =>
      resolvePassphrase(args, {
        name: 'new-passphrase',
        prompt: 'New passphrase: ',
        confirm: true,
      });
    const json = args.flags.has('json');
    const say = (text: string, result: Record<string, unknown>) =>
      io.out(json ? JSON.stringify({ path, ...result }) : text);
    switch (sub) {
      case 'list': {
        const info = await inspectImage(path, { forceShare: forceShare(args) });
        if (!info.encryption || info.encryption.format !== 'luks') {
          throw fail('NOT_ENCRYPTED', `${path} has no LUKS keyslots`);
        }
        if (args.flags.has('json')) {
          io.out(
            JSON.stringify(
              info.encryption.slots.map((s) => ({ slot: s.slot, ...slotJson(s) })),
              null,
              2
            )
          );
        } else io.out(slotLines(info.encryption.slots).join('\n'));
        return 0;
      }
      case 'test': {
        const pass = await existing('Passphrase to test: ');
        try {
          const r = await keyslotTest(path, pass, { forceShare: forceShare(args) });
          say(`Passphrase opens keyslot ${r.slot}`, r);
        } finally {
          pass.fill(0);
        }
        return 0;
      }
      case 'add': {
        const pass = await existing('Existing passphrase: ');
        let next: Uint8Array | undefined;
        try {
          next = await fresh();
          const r = await keyslotAdd({
            path,
            passphrase: pass,
            newPassphrase: next,
            slot,
            ...iterOptions(args),
          });
          say(`Added a passphrase in keyslot ${r.slot}`, r);
        } finally {
          pass.fill(0);
          next?.fill(0);
        }
        return 0;
      }
      case 'change': {
        const pass = await existing('Current passphrase: ');
        let next: Uint8Array | undefined;
        try {
          next = await fresh();
          const r = await keyslotChange({
            path,
            passphrase: pass,
            newPassphrase: next,
            ...iterOptions(args),
          });
          say(
            `Passphrase changed: now in keyslot ${r.slot}; removed keyslot(s) ${r.removed.join(', ')}`,
            r
          );
        } finally {
          pass.fill(0);
          next?.fill(0);
        }
        return 0;
      }
      case 'remove': {
        const byPassphrase = givesPassphrase(args, { name: 'passphrase', prompt: '', image });
        if (slot === undefined && !byPassphrase) {
          throw fail(
            'INVALID_ARGUMENT',
            'Say which keyslot to remove: --slot N, --passphrase-file F or --secret ID'
          );
        }
        // With --slot, a passphrase is the proof: it must open another keyslot (decisions.md).
        const pass = byPassphrase
          ? await existing(
              slot === undefined ? 'Passphrase to revoke: ' : 'A remaining passphrase: '
            )
          : undefined;
        try {
          const r = await keyslotRemove({
            path,
            slot,
            passphrase: pass,
            forceLast: args.flags.has('force-last'),
          });
          say(`Removed keyslot(s) ${r.removed.join(', ')}`, r);
        } finally {
          pass?.fill(0);
        }
        return 0;
      }
      default:
        throw fail(
          'INVALID_ARGUMENT',
          `Unknown keyslot command "${sub ?? ''}" (list, test, add, change, remove)`
        );
    }
  },
};
