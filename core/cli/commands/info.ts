/** `image-vault info` and `image-vault check`. */
import { FileDevice } from '../../io/file-device.js';
import { probeFormat } from '../../formats/probe.js';
import { checkQcow2 } from '../../formats/qcow2/index.js';
import { inspectImage } from '../../service/inspect.js';
import { parseArgs } from '../args.js';
import { infoJson, infoText } from '../info-format.js';
import type { CliIo } from '../io.js';
import { checkDeclaredFormat, checkOptionKeys, wantsJson } from '../option-keys.js';
import { checkImageDriver, namedImage } from '../image-passphrase.js';
import { parseSecretObjects } from '../secrets.js';
import { FORCE_SHARE_FLAGS, FORCE_SHARE_HELP, forceShare, requirePositionals } from './common.js';

/** qemu-img info and check take the image's secrets too: declared, checked, not needed. */
const NO_PASSPHRASE_HELP = `As qemu-img: --image-opts names IMAGE as driver=qcow2,file.filename=X[,encrypt.key-secret=
ID] (key-secret=ID for driver=luks) with --object secret,id=ID,file=F; the secret must be
declared, but is not read (as qemu-img info, nothing is decrypted).`;

/** The arguments of info and check, and the image they name. */
function imageArgs(argv: string[], command: string) {
  const args = parseArgs(argv, {
    values: ['f', 'output', 'object'],
    flags: ['json', 'image-opts', ...FORCE_SHARE_FLAGS],
  });
  parseSecretObjects(args); // refuse data=… and typos
  checkOptionKeys(args, []);
  const [text] = requirePositionals(args, ['IMAGE']) as [string];
  return { args, image: namedImage(args, text, { layers: true, command }) };
}

export const infoCommand = {
  help: `image-vault info [--json|--output=json] [-f FMT] [-U] [--object secret,id=ID,file=F]... [--image-opts] IMAGE

Shows format, sizes, backing chain, snapshots and encryption (LUKS keyslots or legacy AES)
of any image. Needs no passphrase. --json uses qemu-img info's keys.
${NO_PASSPHRASE_HELP}
${FORCE_SHARE_HELP}`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { args, image } = imageArgs(argv, 'info');
    const path = image.path;
    const info = await inspectImage(path, {
      forceShare: forceShare(args),
      reportUse: forceShare(args),
    });
    checkDeclaredFormat(args, path, info.format);
    checkImageDriver(image, info.format);
    io.out(wantsJson(args) ? JSON.stringify(infoJson(info), null, 2) : infoText(info));
    return 0;
  },
};

export const checkCommand = {
  help: `image-vault check [--json|--output=json] [-f FMT] [-U] [--object secret,id=ID,file=F]... [--image-opts] IMAGE

Validates qcow2 metadata like qemu-img check (refcounts, leaks, offsets, alignment, COPIED
flags). Needs no passphrase. Exit 0 clean, 2 corruptions, 3 only leaks, 1 could not check,
5 in use.
${NO_PASSPHRASE_HELP}
${FORCE_SHARE_HELP}`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { args, image } = imageArgs(argv, 'check');
    const path = image.path;
    const dev = await FileDevice.open(path, { forceShare: forceShare(args) });
    try {
      const format = await probeFormat(dev);
      checkDeclaredFormat(args, path, format);
      checkImageDriver(image, format);
      if (format !== 'qcow2') {
        const msg = `${format} images have no metadata to check`;
        io.out(wantsJson(args) ? JSON.stringify({ format, checked: false, message: msg }) : msg);
        return 0;
      }
      const r = await checkQcow2(dev);
      if (wantsJson(args)) {
        io.out(
          JSON.stringify(
            {
              filename: path,
              format,
              'check-errors': 0,
              corruptions: r.corruptions,
              leaks: r.leaks,
              'image-end-offset': r.imageEndOffset,
              'allocated-clusters': r.allocatedClusters,
              'total-clusters': r.totalClusters,
              'fragmented-clusters': r.fragmentedClusters,
              messages: r.messages,
            },
            null,
            2
          )
        );
      } else {
        for (const m of r.messages) io.out(m);
        if (r.corruptions === 0 && r.leaks === 0) io.out('No errors were found on the image.');
        if (r.corruptions > 0) io.out(`${r.corruptions} errors were found on the image.`);
        if (r.leaks > 0) io.out(`${r.leaks} leaked clusters were found on the image.`);
        io.out(`${r.allocatedClusters}/${r.totalClusters} clusters allocated.`);
        io.out(`Image end offset: ${r.imageEndOffset}`);
      }
      return r.corruptions > 0 ? 2 : r.leaks > 0 ? 3 : 0;
    } finally {
      await dev.close();
    }
  },
};
