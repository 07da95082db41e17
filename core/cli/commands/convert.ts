/** `image-vault convert` and `image-vault migrate`. */
import { fail } from '../../api/errors.js';
import type { ConvertRequest, MigrateRequest, OutputFormat } from '../../api/types.js';
import type { ShareOptions } from '../../service/convert.js';
import { createVaultService } from '../../service/vault-service.js';
import { inspectImage } from '../../service/inspect.js';
import { parseArgs } from '../args.js';
import { humanSize } from '../info-format.js';
import type { CliIo } from '../io.js';
import {
  checkOptionKeys,
  ENCRYPT_OPTION_KEYS,
  encryptFormatOption,
  QCOW2_OPTION_KEYS,
} from '../option-keys.js';
import { followJob, jobResult, progressMode } from '../job-runner.js';
import {
  clusterSizeOption,
  compatOption,
  KDF_VALUE_OPTIONS,
  luksCreateArgs,
  encryptOptions,
  FORCE_SHARE_FLAGS,
  FORCE_SHARE_HELP,
  forceShare,
  getPassphrase,
  passphraseOptions,
  requirePositionals,
} from './common.js';
import {
  checkImageDriver,
  givesPassphrase,
  namedImage,
  resolvePassphrase,
} from '../image-passphrase.js';
import { wipe } from '../../crypto/secret.js';
import { backingPassphrases, newPassphrase, parseSecretObjects, SECRET_HELP } from '../secrets.js';

/**
 * What a conversion copied, for its closing line: the bytes this run wrote (a sparse raw
 * source counts as all data, so its data size would mislead), and where a resumed run began.
 */
function copiedSummary(result: Record<string, unknown>): string {
  const written = `${humanSize(Number(result.bytesWritten ?? 0))} written`;
  const from = Number(result.resumedFrom ?? 0);
  return from > 0 ? `${written} after resuming at ${humanSize(from)}` : written;
}

export const convertCommand = {
  help: `image-vault convert [-O qcow2|raw|luks] [--encrypt] [-o OPTIONS] [--source-passphrase-file F]
                     [--backing-passphrase-file F]... [--object secret,id=ID,file=F]... [--image-opts]
                     [--passphrase-file F] [--progress=json] [--json] [--no-verify] [--resume] [--overwrite] [-U] SRC DST

Converts any readable image (qcow2, qcow, raw, LUKS; encrypted or not) to qcow2 (default),
raw, or raw LUKS, decrypting and/or encrypting in one sparse pass. --encrypt with -O qcow2
makes qcow2+LUKS. Output goes to DST.partial and is renamed only after it was verified
(every guest byte compared with the source; --no-verify skips that). Ctrl-C leaves nothing
behind; --resume continues an interrupted run from its journal. --overwrite replaces an
existing DST, unless a VM or another program holds it (IMAGE_IN_USE, exit status 5).
Options (-o): cluster-size, compat, cipher, hash, iter-time, iterations (see create --help).
-O luks takes --luks-version 2 and the LUKS2 options of create (--pbkdf, --sector-size, …).
--json prints the result as one JSON line at the end ({"source", "target", "format",
"verified", "bytesWritten", …}), after the progress lines of --progress=json.
An encrypted backing chain: the source passphrase opens the image; --backing-passphrase-file F
(repeatable: its backing file, then that one's backing file, …) opens each backing layer
with its own passphrase (a layer without one is tried with the source's). A wrong one is
refused naming the layer: "The backing file X: The passphrase does not open any keyslot".
${SECRET_HELP}
${FORCE_SHARE_HELP}`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv, {
      values: [
        'O',
        'f',
        'progress',
        ...passphraseOptions('passphrase', 'source-passphrase'),
        'backing-passphrase-file',
        'source-secret',
        'object',
        'luks-version',
        'sector-size',
        'iter-time',
        ...KDF_VALUE_OPTIONS,
      ],
      flags: [
        'encrypt',
        'no-verify',
        'resume',
        'overwrite',
        'json',
        'image-opts',
        ...FORCE_SHARE_FLAGS,
      ],
    });
    parseSecretObjects(args); // refuse data=… and typos before anything is read
    const [srcArg, target] = requirePositionals(args, ['SRC', 'DST']) as [string, string];
    const image = namedImage(args, srcArg, { layers: true });
    const imageOpts = image.opts;
    const source = image.path;
    const format = (args.values.get('O') ?? 'qcow2') as OutputFormat;
    if (!['qcow2', 'raw', 'luks'].includes(format)) {
      throw fail('INVALID_ARGUMENT', `Cannot convert to "${format}" (qcow2, raw or luks)`);
    }
    const encrypt = format === 'luks' || args.flags.has('encrypt') || encryptFormatOption(args);
    checkOptionKeys(
      args,
      [...(format === 'qcow2' ? QCOW2_OPTION_KEYS : []), ...(encrypt ? ENCRYPT_OPTION_KEYS : [])],
      {
        ...Object.fromEntries(
          ENCRYPT_OPTION_KEYS.map((k) => [k, 'the output is not encrypted (--encrypt or -O luks)'])
        ),
        ...Object.fromEntries(QCOW2_OPTION_KEYS.map((k) => [k, 'only qcow2 outputs take it'])),
        extended_l2: 'extended L2 entries are not written',
        type: 'say --luks-version 1|2',
      }
    );
    if (format === 'raw' && args.flags.has('encrypt')) {
      throw fail('INVALID_ARGUMENT', 'Use -O luks for an encrypted raw output');
    }
    const mode = progressMode(args.values.get('progress'), io);
    const share = forceShare(args);
    const info = await inspectImage(source, { forceShare: share });
    checkImageDriver(image, info.format);
    let sourcePassphrase: Uint8Array | undefined;
    let passphrase: Uint8Array | undefined;
    let layers: (Uint8Array | undefined)[] = [];
    try {
      const src = { name: 'source-passphrase', prompt: 'Source passphrase: ', image };
      if (info.encrypted || givesPassphrase(args, src)) {
        sourcePassphrase = await resolvePassphrase(args, src);
      }
      layers = await backingPassphrases(args, imageOpts);
      if (encrypt) {
        passphrase = await newPassphrase(args, () =>
          getPassphrase(args, 'passphrase', 'New passphrase: ', true)
        );
      }
      const service = createVaultService();
      // -U travels beside the contract's fields (service ShareOptions; see convertJob).
      const request: ConvertRequest & ShareOptions = {
        source,
        target,
        format,
        sourcePassphrase,
        backingPassphrases: layers,
        passphrase,
        encryption: encrypt ? luksCreateArgs(args) : undefined,
        clusterSize: clusterSizeOption(args),
        compat: compatOption(args),
        verify: !args.flags.has('no-verify'),
        resume: args.flags.has('resume'),
        overwrite: args.flags.has('overwrite'),
        forceShare: share,
      };
      const job = await service.startConvert(request);
      const result = jobResult(await followJob(service, job, io, mode));
      if (args.flags.has('json')) io.out(JSON.stringify({ source, target, format, ...result }));
      if (mode !== 'json') {
        io.err(
          `Converted ${source} → ${target} (${format}${encrypt ? ', LUKS' : ''}, ` +
            `${copiedSummary(result)}${result.verified ? ', verified' : ''})`
        );
      }
      return 0;
    } finally {
      wipe(sourcePassphrase, passphrase, ...layers);
    }
  },
};

export const migrateCommand = {
  help: `image-vault migrate [--old-passphrase-file F | --old-secret ID] [--passphrase-file F] [-o cipher=…,hash=…,iter-time=…]
                     [--object secret,id=ID,file=F]... [--image-opts]
                     [--keep-backing | --flatten] [--resume] [--force] [--progress=json] [--json] [--no-verify] [-U] SRC DST

Rescues a legacy AES-encrypted qcow or qcow2 image into qcow2+LUKS (default aes-256-xts-plain64,
sha256, 2000 ms unlock time): same virtual size, sparse, verified. The original is never
modified. Legacy AES cannot detect a wrong passphrase, so a sample of sectors is decrypted
first; if it looks like random noise the migration is refused (--force overrides).
A backing file is folded in (--flatten, the default); --keep-backing keeps the reference.
Internal snapshots are not carried over (reported). --json: the result as one JSON line.
As qemu-img convert: --object secret,id=ID,file=F declares a secret; --image-opts names SRC as
driver=qcow2,file.filename=SRC,encrypt.key-secret=ID (driver=qcow for qcow v1), the legacy
passphrase; --old-secret ID gives it without --image-opts; -o encrypt.key-secret=ID2 is the
new passphrase. data=… is refused: the command line is readable by all.
${FORCE_SHARE_HELP}`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv, {
      values: [
        'progress',
        'object',
        'old-secret',
        ...passphraseOptions('old-passphrase', 'passphrase'),
      ],
      flags: [
        'image-opts',
        'keep-backing',
        'flatten',
        'resume',
        'force',
        'no-verify',
        'overwrite',
        'json',
        ...FORCE_SHARE_FLAGS,
      ],
    });
    parseSecretObjects(args); // refuse data=… and typos before anything is read
    checkOptionKeys(args, ENCRYPT_OPTION_KEYS);
    const [srcArg, target] = requirePositionals(args, ['SRC', 'DST']) as [string, string];
    const image = namedImage(args, srcArg, { command: 'migrate' });
    const source = image.path;
    if (image.opts?.driver) {
      checkImageDriver(image, (await inspectImage(source, { forceShare: true })).format);
    }
    if (args.flags.has('keep-backing') && args.flags.has('flatten')) {
      throw fail('INVALID_ARGUMENT', 'Choose one of --keep-backing and --flatten');
    }
    const mode = progressMode(args.values.get('progress'), io);
    let oldPassphrase: Uint8Array | undefined;
    let passphrase: Uint8Array | undefined;
    try {
      oldPassphrase = await resolvePassphrase(args, {
        name: 'old-passphrase',
        prompt: 'Old (legacy AES) passphrase: ',
        image,
      });
      passphrase = await newPassphrase(args, () =>
        getPassphrase(args, 'passphrase', 'New passphrase: ', true)
      );
      const service = createVaultService();
      const request: MigrateRequest & ShareOptions = {
        source,
        target,
        oldPassphrase,
        passphrase,
        encryption: encryptOptions(args),
        keepBacking: args.flags.has('keep-backing'),
        verify: !args.flags.has('no-verify'),
        resume: args.flags.has('resume'),
        force: args.flags.has('force'),
        forceShare: forceShare(args),
      };
      const job = await service.startMigrate(request);
      const result = jobResult(await followJob(service, job, io, mode));
      if (args.flags.has('json')) io.out(JSON.stringify({ source, target, ...result }));
      if (mode !== 'json') {
        io.err(
          `Migrated ${source} → ${target} (qcow2+LUKS${result.verified ? ', verified' : ''}).`
        );
        const snaps = Number(result.snapshotsNotCarried ?? 0);
        if (snaps > 0) io.err(`Note: ${snaps} internal snapshot(s) were not carried over.`);
        io.err('The original was left untouched; delete it once you have checked the new image.');
      }
      return 0;
    } finally {
      wipe(oldPassphrase, passphrase);
    }
  },
};
