/** `image-vault bundle export|import` and `image-vault libvirt plan`. */
import { fail } from '../../api/errors.js';
import { createVaultService } from '../../service/vault-service.js';
import { randomPassphrase } from '../../service/passphrase-generator.js';
import { parseArgs } from '../args.js';
import type { CliIo } from '../io.js';
import { followJob, jobResult, progressMode } from '../job-runner.js';
import {
  encryptOptions,
  getPassphrase,
  hasPassphrase,
  passphraseOptions,
  requirePositionals,
} from './common.js';
import { wipe } from '../../crypto/secret.js';

export const bundleCommand = {
  help: `image-vault bundle export [--recipient NAME] [--keep-master-key] [--passphrase-file F (source)]
                          [--recipient-passphrase-file F | --generate-passphrase] [--tar] SRC BUNDLE_DIR
image-vault bundle import [--passphrase-file HANDED_OVER] [--new-passphrase-file MINE]
                          [--keep-handed-over] [--libvirt-uri URI] [--define-secret] BUNDLE_DIR DEST

export: writes a bundle folder for someone else: the image re-encrypted under a fresh master
key (--keep-master-key only swaps the passphrases), manifest.json, libvirt secret/disk XML
and README.txt. Hand the recipient passphrase over separately.
import: verifies the bundle, unlocks it with the handed-over passphrase, replaces that with
your own (unless --keep-handed-over), and with --define-secret creates the libvirt secret so
the VM boots unattended (the passphrase never appears on a command line).`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    const args = parseArgs(rest, {
      values: [
        'recipient',
        'libvirt-uri',
        'progress',
        ...passphraseOptions('passphrase', 'recipient-passphrase', 'new-passphrase'),
      ],
      flags: ['keep-master-key', 'generate-passphrase', 'tar', 'keep-handed-over', 'define-secret'],
    });
    const mode = progressMode(args.values.get('progress'), io);
    const service = createVaultService();
    if (sub === 'export') {
      const [source, bundleDir] = requirePositionals(args, ['SRC', 'BUNDLE_DIR']) as [
        string,
        string,
      ];
      const info = await service.inspect(source);
      let sourcePassphrase: Uint8Array | undefined;
      let recipientPassphrase: Uint8Array | undefined;
      try {
        if (info.encrypted)
          sourcePassphrase = await getPassphrase(args, 'passphrase', 'Source passphrase: ');
        let generated: string | undefined;
        if (args.flags.has('generate-passphrase') || !hasPassphrase(args, 'recipient-passphrase')) {
          if (!args.flags.has('generate-passphrase') && process.stdin.isTTY) {
            recipientPassphrase = await getPassphrase(
              args,
              'recipient-passphrase',
              'Recipient passphrase: ',
              true
            );
          } else {
            generated = randomPassphrase();
            recipientPassphrase = new TextEncoder().encode(generated);
          }
        } else {
          recipientPassphrase = await getPassphrase(
            args,
            'recipient-passphrase',
            'Recipient passphrase: '
          );
        }
        const job = await service.startExport({
          source,
          bundleDir,
          recipient: args.values.get('recipient') ?? 'recipient',
          sourcePassphrase,
          recipientPassphrase,
          keepMasterKey: args.flags.has('keep-master-key'),
          tar: args.flags.has('tar'),
          encryption: encryptOptions(args),
        });
        const r = jobResult(await followJob(service, job, io, mode));
        io.out(`Bundle written to ${bundleDir} (LUKS UUID ${String(r.luksUuid)}).`);
        if (generated) {
          io.out(
            `Recipient passphrase (shown once — send it separately, not with the bundle):\n  ${generated}`
          );
        }
        return 0;
      } finally {
        wipe(sourcePassphrase, recipientPassphrase);
      }
    }
    if (sub === 'import') {
      const [bundleDir, target] = requirePositionals(args, ['BUNDLE_DIR', 'DEST']) as [
        string,
        string,
      ];
      let passphrase: Uint8Array | undefined;
      let newPassphrase: Uint8Array | undefined;
      try {
        passphrase = await getPassphrase(args, 'passphrase', 'Handed-over passphrase: ');
        if (
          hasPassphrase(args, 'new-passphrase') ||
          (process.stdin.isTTY && !args.flags.has('keep-handed-over'))
        ) {
          newPassphrase = await getPassphrase(
            args,
            'new-passphrase',
            'Your own new passphrase: ',
            true
          );
        }
        const job = await service.startImport({
          bundleDir,
          target,
          passphrase,
          newPassphrase,
          keepHandedOver: args.flags.has('keep-handed-over'),
          libvirtUri: args.values.get('libvirt-uri'),
          defineSecret: args.flags.has('define-secret'),
          encryption: encryptOptions(args),
        });
        const r = jobResult(await followJob(service, job, io, mode));
        io.out(`Imported to ${target}.`);
        if (r.rotated) io.out('The handed-over passphrase was replaced by yours.');
        io.out(
          r.secretDefined
            ? `libvirt secret ${String(r.secretUuid)} defined and set.`
            : 'Next steps:'
        );
        if (!r.secretDefined) for (const s of (r.steps as string[]) ?? []) io.out(`  ${s}`);
        io.out('Disk XML for the domain:');
        io.out(String(r.diskXml));
        return 0;
      } finally {
        wipe(passphrase, newPassphrase);
      }
    }
    throw fail('INVALID_ARGUMENT', 'Use bundle export or bundle import');
  },
};

export const libvirtCommand = {
  help: `image-vault libvirt plan IMAGE [--libvirt-uri URI]

Prints the libvirt secret XML, the disk XML and the steps that make an existing encrypted
image boot unattended. Contains no secret.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub !== 'plan') throw fail('INVALID_ARGUMENT', 'Use libvirt plan IMAGE');
    const args = parseArgs(rest, { values: ['libvirt-uri'], flags: [] });
    const [path] = requirePositionals(args, ['IMAGE']) as [string];
    const { planForImage } = await import('../../service/bundle.js');
    const plan = await planForImage(path, args.values.get('libvirt-uri'));
    io.out('# Secret XML (secret.xml)');
    io.out(plan.secretXml);
    io.out('# Disk XML (add to the domain)');
    io.out(plan.diskXml);
    io.out('# Steps');
    plan.steps.forEach((s, i) => io.out(`${i + 1}. ${s}`));
    return 0;
  },
};
