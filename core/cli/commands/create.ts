/** `image-vault create`. */
import { fail } from '../../api/errors.js';
import type { OutputFormat } from '../../api/types.js';
import { createImage } from '../../service/create.js';
import { inspectImage } from '../../service/inspect.js';
import { parseArgs, parseSize } from '../args.js';
import { humanSize, infoJson } from '../info-format.js';
import type { CliIo } from '../io.js';
import {
  checkOptionKeys,
  ENCRYPT_OPTION_KEYS,
  encryptFormatOption,
  QCOW2_OPTION_KEYS,
} from '../option-keys.js';
import {
  clusterSizeOption,
  compatOption,
  getPassphrase,
  KDF_VALUE_OPTIONS,
  luksCreateArgs,
  passphraseOptions,
  requirePositionals,
} from './common.js';

export const createCommand = {
  help: `image-vault create -f qcow2|raw|luks [--encrypt] [-o OPTIONS] [--passphrase-file F] IMAGE SIZE

Creates an empty image. SIZE like 64M, 20G or bytes.
  -f qcow2 --encrypt   qcow2 with LUKS, exactly as QEMU writes it (default cipher
                       aes-256-xts-plain64, hash sha256, unlock time 2000 ms)
  -f luks              raw LUKS image that cryptsetup opens: LUKS1 (default) or, with
                       --luks-version 2, LUKS2 as cryptsetup luksFormat --type luks2 writes it
                       (argon2id keyslot benchmarked for --iter-time, memory up to 1 GiB,
                       up to 4 lanes; --pbkdf pbkdf2|argon2i|argon2id, --pbkdf-memory KIB,
                       --pbkdf-parallel N, --pbkdf-force-iterations N, --sector-size 512|4096)
  -f raw               plain sparse raw image
Options (-o a=b,c=d): cluster-size=65536, compat=1.1|0.10, cipher=aes-256-xts-plain64|
  aes-128-xts-plain64|aes-256-cbc-essiv:sha256|aes-128-cbc-plain64|…, hash=sha256|sha1|sha512,
  iter-time=MS (unlock time per keyslot), iterations=N (forced count).
The passphrase comes from --passphrase-file F (- = stdin), --passphrase-fd N or a prompt.
--json prints the new image as info --json does (qemu-img info's keys).`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv, {
      values: [
        'f',
        ...passphraseOptions('passphrase'),
        'luks-version',
        'sector-size',
        'iter-time',
        ...KDF_VALUE_OPTIONS,
      ],
      flags: ['encrypt', 'json'],
    });
    const [path, sizeText] = requirePositionals(args, ['IMAGE', 'SIZE']) as [string, string];
    const format = (args.values.get('f') ?? 'qcow2') as OutputFormat;
    if (!['qcow2', 'raw', 'luks'].includes(format)) {
      throw fail('INVALID_ARGUMENT', `Cannot create format "${format}" (qcow2, raw or luks)`);
    }
    const encrypted = format === 'luks' || args.flags.has('encrypt') || encryptFormatOption(args);
    checkOptionKeys(
      args,
      [...(format === 'qcow2' ? QCOW2_OPTION_KEYS : []), ...(encrypted ? ENCRYPT_OPTION_KEYS : [])],
      {
        ...Object.fromEntries(
          ENCRYPT_OPTION_KEYS.map((k) => [k, 'the image is not encrypted (--encrypt)'])
        ),
        ...Object.fromEntries(QCOW2_OPTION_KEYS.map((k) => [k, 'only qcow2 images take it'])),
        extended_l2: 'extended L2 entries are not written',
        type: 'say --luks-version 1|2',
      }
    );
    if (format === 'raw' && encrypted)
      throw fail('INVALID_ARGUMENT', 'Use -f luks for an encrypted raw image');
    const virtualSize = parseSize(sizeText);
    const passphrase = encrypted
      ? await getPassphrase(args, 'passphrase', 'New passphrase: ', true)
      : undefined;
    try {
      await createImage({
        path,
        format,
        virtualSize,
        clusterSize: clusterSizeOption(args),
        compat: compatOption(args),
        passphrase,
        encryption: encrypted ? luksCreateArgs(args) : undefined,
      });
    } finally {
      passphrase?.fill(0);
    }
    const info = await inspectImage(path);
    if (args.flags.has('json')) {
      io.out(JSON.stringify(infoJson(info), null, 2));
      return 0;
    }
    const e = info.encryption;
    const what = e ? `, LUKS${e.version ?? 1} ${e.cipherAlg}-${e.cipherMode}-${e.ivgenAlg}` : '';
    io.out(`Created ${path}: ${format}${what}, ${humanSize(virtualSize)}`);
    return 0;
  },
};
