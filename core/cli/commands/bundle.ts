/** `image-vault bundle export|import` and `image-vault libvirt plan` (README "Bundles"). */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail, exitCodeFor, type ErrorCode } from '../../api/errors.js';
import type { BundleSummary } from '../../api/types.js';
import { createVaultService, type VaultService } from '../../service/vault-service.js';
import { randomPassphrase } from '../../service/passphrase-generator.js';
import { defaultIdentityFile } from '../../service/bundle-keys.js';
import { parseArgs, type ParsedArgs } from '../args.js';
import type { CliIo } from '../io.js';
import { checkOptionKeys, ENCRYPT_OPTION_KEYS } from '../option-keys.js';
import { followJob, jobResult, progressMode } from '../job-runner.js';
import {
  encryptOptions,
  getPassphrase,
  hasPassphrase,
  passphraseOptions,
  requirePositionals,
} from './common.js';
import { wipe } from '../../crypto/secret.js';
import {
  checkImageDriver,
  IMAGE_SECRET_HELP,
  namedImage,
  resolvePassphrase,
} from '../image-passphrase.js';
import { parseSecretObjects } from '../secrets.js';

export const bundleCommand = {
  help: `image-vault bundle export [--recipient NAME] [--keep-master-key] [--passphrase-file F | --secret ID (source)]
                          [--object secret,id=ID,file=F]... [--image-opts]
                          [--to RECIPIENT]... [--sign KEY [--sign-passphrase-file F]]
                          [--recipient-passphrase-file F | --generate-passphrase] [--tar] SRC BUNDLE
image-vault bundle import [--identity FILE [--identity-passphrase-file F]] [--allowed-signers FILE]
                          [--passphrase-file HANDED_OVER] [--new-passphrase-file MINE]
                          [--keep-handed-over] [--libvirt-uri URI] [--define-secret] BUNDLE DEST

export: writes a bundle for someone else: the image re-encrypted under a fresh master key
(--keep-master-key only swaps the passphrases), manifest.json, libvirt secret/disk XML and
README.txt; a folder, or one file BUNDLE.tar with --tar (or a BUNDLE ending in .tar).
  --to RECIPIENT  seal a fresh random secret to a key instead of handing over a passphrase:
                  an age recipient (age1…), an SSH public key (ssh-ed25519 …, ssh-rsa …) or a
                  file of them (authorized_keys); repeat for several. Nobody sees the secret.
  --sign KEY      sign the manifest with an SSH private key (ssh-keygen -Y sign format,
                  namespace image-vault-bundle).
import: reads a bundle folder or file, verifies it, opens it (the handed-over passphrase, or
for a sealed bundle --identity: an age identity or SSH private key, default ~/.ssh/id_ed25519),
re-keys it to your own passphrase or, for a sealed bundle, to a fresh random secret sealed to
your key (DEST.secret.age), and with --define-secret creates the libvirt secret so the VM
boots unattended (no secret on any command line).
  --allowed-signers FILE  refuse (exit 6, BAD_SIGNATURE) unless a signer in FILE (ssh-keygen's
                  allowed-signers format) signed it; nothing is written before this check.
A re-run of an interrupted import completes it (e.g. only defines the libvirt secret).
--json (both): the result as one JSON line at the end (export: bundleDir, luksUuid, …, and
a generated recipientPassphrase; import: the signer, each step's report and exitCode).
export's source passphrase, as qemu-img takes it (import takes none of this):
${IMAGE_SECRET_HELP}`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    const args = parseArgs(rest, {
      values: [
        'recipient',
        'libvirt-uri',
        'progress',
        'to',
        'sign',
        'identity',
        'allowed-signers',
        'object',
        'secret',
        ...passphraseOptions(
          'passphrase',
          'recipient-passphrase',
          'new-passphrase',
          'sign-passphrase',
          'identity-passphrase'
        ),
      ],
      flags: [
        'keep-master-key',
        'generate-passphrase',
        'tar',
        'keep-handed-over',
        'define-secret',
        'json',
        'image-opts',
      ],
    });
    parseSecretObjects(args); // refuse data=… and typos before anything is read
    const service = createVaultService();
    if (sub === 'export') return exportCmd(args, io, service);
    if (sub === 'import') return importCmd(args, io, service);
    throw fail('INVALID_ARGUMENT', 'Use bundle export or bundle import');
  },
};

/** `--to` values: a recipient line, or a file of them. */
async function recipientText(values: string[]): Promise<string | undefined> {
  if (values.length === 0) return undefined;
  const parts: string[] = [];
  for (const v of values) {
    const isFile =
      !/^(age1|ssh-)/.test(v) &&
      (await stat(v).then(
        (s) => s.isFile(),
        () => false
      ));
    parts.push(isFile ? await readFile(v, 'utf8') : v);
  }
  return parts.join('\n');
}

/** A key file's passphrase when the key is encrypted (file option, else a prompt). */
async function keyPassphrase(
  service: VaultService,
  args: ParsedArgs,
  path: string,
  name: string
): Promise<Uint8Array | undefined> {
  const d = await service.describeKeys({ privateKey: path });
  if (!d.privateKey?.encrypted) return undefined;
  return getPassphrase(args, name, `Passphrase for ${path}: `);
}

async function exportCmd(args: ParsedArgs, io: CliIo, service: VaultService): Promise<number> {
  const mode = progressMode(args.values.get('progress'), io);
  const [srcArg, bundleDir] = requirePositionals(args, ['SRC', 'BUNDLE']) as [string, string];
  const image = namedImage(args, srcArg, { command: 'bundle export' });
  const source = image.path;
  const info = await service.inspect(source);
  checkImageDriver(image, info.format);
  const src = { name: 'passphrase', prompt: 'Source passphrase: ', image };
  const sealTo = await recipientText(args.repeated.get('to') ?? []);
  const sign = args.values.get('sign');
  let sourcePassphrase: Uint8Array | undefined;
  let recipientPassphrase: Uint8Array | undefined;
  let signPassphrase: Uint8Array | undefined;
  try {
    if (sign) signPassphrase = await keyPassphrase(service, args, resolve(sign), 'sign-passphrase');
    if (info.encrypted) {
      sourcePassphrase = await resolvePassphrase(args, src);
    }
    let generated: string | undefined;
    if (sealTo) {
      if (hasPassphrase(args, 'recipient-passphrase') || args.flags.has('generate-passphrase')) {
        throw fail('INVALID_ARGUMENT', '--to seals a fresh random secret: no recipient passphrase');
      }
    } else if (
      args.flags.has('generate-passphrase') ||
      !hasPassphrase(args, 'recipient-passphrase')
    ) {
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
    const tar = args.flags.has('tar') || bundleDir.endsWith('.tar');
    const job = await service.startExport({
      source,
      bundleDir: resolve(bundleDir),
      recipient: args.values.get('recipient') ?? 'recipient',
      sourcePassphrase,
      ...(recipientPassphrase ? { recipientPassphrase } : {}),
      ...(sealTo ? { sealTo } : {}),
      ...(sign ? { signingKey: resolve(sign) } : {}),
      ...(signPassphrase ? { signingKeyPassphrase: signPassphrase } : {}),
      keepMasterKey: args.flags.has('keep-master-key'),
      tar,
      encryption:
        (checkOptionKeys(
          args,
          ENCRYPT_OPTION_KEYS.filter((k) => k !== 'encrypt.key-secret'),
          {
            'encrypt.key-secret':
              'the source passphrase is --image-opts …encrypt.key-secret=ID or --secret ID',
          }
        ),
        encryptOptions(args)),
    });
    const r = jobResult(await followJob(service, job, io, mode));
    if (args.flags.has('json')) {
      // The generated passphrase is shown once, here as in the text output.
      io.out(JSON.stringify({ ...r, ...(generated ? { recipientPassphrase: generated } : {}) }));
      return 0;
    }
    io.out(`Bundle written to ${String(r.bundleDir)} (LUKS UUID ${String(r.luksUuid)}).`);
    const sealed = (r.sealedTo as string[] | undefined) ?? [];
    if (sealed.length) io.out(`Sealed to: ${sealed.join(', ')} (no passphrase to hand over).`);
    if (r.signedBy) io.out(`Signed by ${String(r.signedBy)}.`);
    if (generated) {
      io.out(
        `Recipient passphrase (shown once — send it separately, not with the bundle):\n  ${generated}`
      );
    }
    return 0;
  } finally {
    wipe(sourcePassphrase, recipientPassphrase, signPassphrase);
  }
}

function describeSigner(s: BundleSummary): string {
  if (!s.signer) return 'Not signed: nobody vouches for this bundle.';
  const who = s.signer.comment ? ` (${s.signer.comment})` : '';
  const trust =
    s.signer.trusted === null
      ? 'not checked against an allowed-signers file'
      : `trusted as ${s.signer.principals.join(', ')}`;
  return `Signed by ${s.signer.keyType} ${s.signer.fingerprint}${who}: ${trust}.`;
}

async function importCmd(args: ParsedArgs, io: CliIo, service: VaultService): Promise<number> {
  const mode = progressMode(args.values.get('progress'), io);
  if (args.flags.has('image-opts') || args.values.has('secret')) {
    throw fail('INVALID_ARGUMENT', '--image-opts and --secret are for bundle export (the source)');
  }
  const [bundle, target] = requirePositionals(args, ['BUNDLE', 'DEST']) as [string, string];
  const allowed = args.values.get('allowed-signers');
  const summary = await service.inspectBundle(
    resolve(bundle),
    allowed ? resolve(allowed) : undefined
  );
  const json = args.flags.has('json');
  if (!json) io.out(describeSigner(summary));
  let passphrase: Uint8Array | undefined;
  let newPassphrase: Uint8Array | undefined;
  let identityPassphrase: Uint8Array | undefined;
  try {
    const identity = resolve(args.values.get('identity') ?? defaultIdentityFile());
    if (summary.sealed) {
      identityPassphrase = await keyPassphrase(service, args, identity, 'identity-passphrase');
    } else {
      passphrase = await getPassphrase(args, 'passphrase', 'Handed-over passphrase: ');
    }
    const promptNew = !summary.sealed && process.stdin.isTTY && !args.flags.has('keep-handed-over');
    if (hasPassphrase(args, 'new-passphrase') || promptNew) {
      newPassphrase = await getPassphrase(
        args,
        'new-passphrase',
        'Your own new passphrase: ',
        true
      );
    }
    const job = await service.startImport({
      bundleDir: resolve(bundle),
      target: resolve(target),
      ...(passphrase ? { passphrase } : {}),
      ...(summary.sealed ? { identityFile: identity } : {}),
      ...(identityPassphrase ? { identityPassphrase } : {}),
      ...(allowed ? { allowedSignersFile: resolve(allowed) } : {}),
      ...(newPassphrase ? { newPassphrase } : {}),
      keepHandedOver: args.flags.has('keep-handed-over'),
      libvirtUri: args.values.get('libvirt-uri'),
      defineSecret: args.flags.has('define-secret'),
      encryption: (checkOptionKeys(args, ENCRYPT_OPTION_KEYS), encryptOptions(args)),
    });
    const r = jobResult(await followJob(service, job, io, mode));
    const report =
      (r.report as { step: string; ok: boolean; detail: string; code?: string }[]) ?? [];
    const failed = report.find((s) => !s.ok);
    const status = failed ? exitCodeFor((failed.code ?? 'INTERNAL') as ErrorCode) : 0;
    if (json) {
      const { signed, sealed, signer } = summary;
      io.out(JSON.stringify({ signed, sealed, signer: signer ?? null, ...r, exitCode: status }));
      return status;
    }
    for (const s of report) io.out(`${s.ok ? '✓' : '✗'} ${s.step}: ${s.detail}`);
    if (!r.secretDefined) {
      io.out('Next steps:');
      for (const s of (r.steps as string[]) ?? []) io.out(`  ${s}`);
    }
    io.out('Disk XML for the domain:');
    io.out(String(r.diskXml));
    if (failed) {
      io.err(
        `Imported, but ${failed.step} failed: ${failed.detail} [${failed.code}]. ` +
          'Re-run the same command to retry only that step.'
      );
      return status;
    }
    return 0;
  } finally {
    wipe(passphrase, newPassphrase, identityPassphrase);
  }
}

export const libvirtCommand = {
  help: `image-vault libvirt plan IMAGE [--libvirt-uri URI] [--json]

Prints the libvirt secret XML, the disk XML and the steps that make an existing encrypted
image boot unattended. Contains no secret. --json: {"secretUuid", "secretXml", "diskXml", "steps"}.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub !== 'plan') throw fail('INVALID_ARGUMENT', 'Use libvirt plan IMAGE');
    const args = parseArgs(rest, { values: ['libvirt-uri'], flags: ['json'] });
    const [path] = requirePositionals(args, ['IMAGE']) as [string];
    const { planForImage } = await import('../../service/bundle.js');
    const plan = await planForImage(path, args.values.get('libvirt-uri'));
    if (args.flags.has('json')) {
      io.out(JSON.stringify(plan, null, 2));
      return 0;
    }
    io.out('# Secret XML (secret.xml)');
    io.out(plan.secretXml);
    io.out('# Disk XML (add to the domain)');
    io.out(plan.diskXml);
    io.out('# Steps');
    plan.steps.forEach((s, i) => io.out(`${i + 1}. ${s}`));
    return 0;
  },
};
