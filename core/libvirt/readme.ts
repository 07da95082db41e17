/**
 * The bundle's README.txt: receiving steps for someone without Image Vault, using only
 * sha256sum, virsh and (optionally) qemu-img, with no passphrase on any command line
 * (issue #6, "Export": bundle contents).
 */
import { fail } from '../api/errors.js';
import type { LibvirtDiskFormat } from './disk-xml.js';
import { HOST_BOUND_NOTE } from './plan.js';
import { shellQuote } from './shell-quote.js';
import { checkUuid } from './uuid.js';

export interface BundleReadmeOptions {
  /** File name of the encrypted image inside the bundle. */
  imageFile: string;
  format: LibvirtDiskFormat;
  secretUuid: string;
  /** SHA-256 of the image file, hex (also in manifest.json). */
  sha256: string;
  recipient?: string;
  toolVersion?: string;
  manifestFile?: string;
  secretXmlFile?: string;
  diskXmlFile?: string;
  /** The secret sealed to the recipients' keys (age format), when the bundle is sealed. */
  sealedSecretFile?: string;
  /** The manifest's SSHSIG signature, when the bundle is signed. */
  signatureFile?: string;
}

function numbered(steps: string[]): string {
  return steps.map((s, i) => `${i + 1}. ${s}`).join('\n\n');
}

/** Builds README.txt. Contains no secret: the passphrase travels separately. */
export function bundleReadme(opts: BundleReadmeOptions): string {
  const uuid = checkUuid(opts.secretUuid);
  const sha = opts.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) throw fail('INVALID_ARGUMENT', 'sha256 must be 64 hex digits');
  if (opts.imageFile.includes('/') || /[\n\r]/.test(opts.imageFile)) {
    throw fail('INVALID_ARGUMENT', 'The image file name must be a plain name inside the bundle');
  }
  const img = shellQuote(opts.imageFile);
  const manifest = opts.manifestFile ?? 'manifest.json';
  const sxml = opts.secretXmlFile ?? 'secret.xml';
  const dxml = opts.diskXmlFile ?? 'disk.xml';
  const kind =
    opts.format === 'qcow2'
      ? 'a qcow2 image encrypted with LUKS (qcow2 "encrypt.format=luks")'
      : 'a raw LUKS1 image (QEMU "luks" format)';
  const amendDriver = opts.format === 'qcow2' ? 'qcow2' : 'luks';
  const prefix = opts.format === 'qcow2' ? 'encrypt.' : '';
  const target = `/var/lib/libvirt/images/${opts.imageFile}`;
  const steps = [
    ...(opts.signatureFile === undefined
      ? []
      : [
          `Check who signed it. With the sender's public key in an allowed-signers file ` +
            `(one line: "sender@example.org ssh-ed25519 AAAA..."):\n` +
            `   ssh-keygen -Y verify -f ALLOWED_SIGNERS -I sender@example.org -n image-vault-bundle ` +
            `-s ${shellQuote(opts.signatureFile)} < ${shellQuote(manifest)}\n` +
            `   It must print Good "image-vault-bundle" signature; the SHA-256 in ${manifest} then vouches for the image.`,
        ]),
    `Check the image arrived intact. This must print "${opts.imageFile}: OK":\n` +
      `   echo ${shellQuote(`${sha}  ${opts.imageFile}`)} | sha256sum -c -`,
    `Copy the image where your VMs live, for example:\n   cp ${img} ${shellQuote(target)}\n` +
      `   Then edit ${sxml} (<volume>) and ${dxml} (<source file=...>) so both name that path.`,
    `Define the libvirt secret (${sxml} holds no passphrase):\n   virsh secret-define ${sxml}`,
    ...(opts.sealedSecretFile === undefined
      ? []
      : [
          `The passphrase is sealed to your key in ${opts.sealedSecretFile} (age format). Open it ` +
            `into a file only root can read:\n` +
            `   (umask 077; age -d -i ~/.ssh/id_ed25519 -o PASSPHRASE_FILE ${shellQuote(opts.sealedSecretFile)})\n` +
            `   (-i names your SSH private key or age identity file)`,
        ]),
    `Set the secret's value to the passphrase ${opts.sealedSecretFile === undefined ? 'you were given separately' : 'from the previous step'}, without putting it ` +
      `on a command line. Type it at the prompt:\n` +
      `   virsh secret-set-value --secret ${uuid} --interactive\n` +
      `   or put it in a file only root can read (exactly the passphrase, no extra newline) and:\n` +
      `   virsh secret-set-value --secret ${uuid} --file PASSPHRASE_FILE --plain\n` +
      `   shred -u PASSPHRASE_FILE`,
    `Give your VM the disk and start it; no passphrase is asked at boot:\n` +
      `   virsh attach-device DOMAIN ${dxml} --config\n   virsh start DOMAIN`,
    `Recommended: replace the handed-over passphrase with your own, so whoever sent it cannot ` +
      `open your copy. With the VM shut down, write both passphrases to root-only files and:\n` +
      `   qemu-img amend --object secret,id=old,file=OLD_FILE --object secret,id=new,file=NEW_FILE \\\n` +
      `     --image-opts driver=${amendDriver},file.filename=IMAGE,${prefix}key-secret=old \\\n` +
      `     -o ${prefix}state=active,${prefix}new-secret=new\n` +
      `   qemu-img amend --object secret,id=old,file=OLD_FILE --object secret,id=new,file=NEW_FILE \\\n` +
      `     --image-opts driver=${amendDriver},file.filename=IMAGE,${prefix}key-secret=new \\\n` +
      `     -o ${prefix}state=inactive,${prefix}old-secret=old\n` +
      `   then set the libvirt secret to the new passphrase (step 4) and shred both files.`,
  ];
  const header = [
    'Encrypted VM disk bundle',
    '========================',
    '',
    `This folder holds ${kind}: ${opts.imageFile}.`,
    ...(opts.recipient === undefined ? [] : [`Prepared for: ${opts.recipient}.`]),
    `${manifest} describes it (format, size, LUKS UUID, cipher, SHA-256); ${sxml} and ${dxml}`,
    ...(opts.sealedSecretFile === undefined
      ? [
          'are ready-made libvirt snippets. The passphrase is NOT in this folder: it is handed over',
          'separately. Image Vault users can simply run: image-vault bundle import BUNDLE_DIR DEST',
        ]
      : [
          `are ready-made libvirt snippets. The passphrase is sealed to your key in ${opts.sealedSecretFile};`,
          'only your private key opens it. Image Vault users can simply run:',
          '   image-vault bundle import --identity ~/.ssh/id_ed25519 --define-secret BUNDLE DEST',
        ]),
    '',
    'Receiving it with plain libvirt tools (run as root, or add -c URI to each virsh command):',
    '',
  ];
  const footer = [
    '',
    'Moving hosts: ' + HOST_BOUND_NOTE,
    '',
    `Written by Image Vault${opts.toolVersion === undefined ? '' : ` ${opts.toolVersion}`}.`,
    '',
  ];
  return [...header, numbered(steps), ...footer].join('\n');
}
