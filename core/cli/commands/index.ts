/** The CLI's command table and top-level usage. */
import type { CliIo } from '../io.js';

export interface Command {
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/**
 * Commands load on demand, so a command pays only for the modules it uses (the server and
 * its schemas, libvirt, … stay unloaded for `info` or `convert`): startup time matters for
 * scripts that run the CLI many times.
 */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  info: async () => (await import('./info.js')).infoCommand,
  check: async () => (await import('./info.js')).checkCommand,
  create: async () => (await import('./create.js')).createCommand,
  convert: async () => (await import('./convert.js')).convertCommand,
  migrate: async () => (await import('./convert.js')).migrateCommand,
  keyslot: async () => (await import('./keyslot.js')).keyslotCommand,
  header: async () => (await import('./header.js')).headerCommand,
  rekey: async () => (await import('./rekey.js')).rekeyCommand,
  bundle: async () => (await import('./bundle.js')).bundleCommand,
  libvirt: async () => (await import('./bundle.js')).libvirtCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  clean: async () => (await import('./clean.js')).cleanCommand,
};

export function usage(): string {
  return `image-vault — encrypted VM disk images (qcow2+LUKS, raw LUKS), byte-exact with QEMU and cryptsetup

Usage: image-vault <command> [options]

  info [--json] IMAGE                 format, sizes, backing chain, snapshots, encryption
  check [--json] IMAGE                validate qcow2 metadata like qemu-img check
  create -f qcow2|raw|luks …          new image (--encrypt for qcow2+LUKS)
  convert [-O qcow2|raw|luks] … SRC DST   convert, encrypt, decrypt (sparse, verified)
  migrate … SRC DST                   legacy AES qcow/qcow2 → qcow2+LUKS
  keyslot list|test|add|change|remove manage LUKS passphrases
  keyslot change|add|remove IMAGE… [--list FILE] [--jobs N]   the same over many images
  header repair|convert|backup|restore  repair, convert, back up or restore a LUKS header
  rekey [--resume] IMAGE              new master key in place (crash-safe, resumable)
  bundle export|import                hand an encrypted VM to someone
  libvirt plan IMAGE                  libvirt secret + disk XML for unattended boot
  clean DST                           remove DST.partial and its journal (a failed job's)
  serve [--port N]                    the UI on a loopback port (for headless hosts)

Global: --debug (stack traces), --help, --version, --allow-slow-keyslots (try keyslots whose
key derivation would take over 180 s here or over half the RAM; skipped with a warning
otherwise). Passphrases are read from
--…passphrase-file F (- = stdin), --…passphrase-fd N, or a terminal prompt; never from argv.
As qemu-img: --object secret,id=ID,file=F with --image-opts driver=…,file.filename=IMAGE,
…key-secret=ID (or --secret ID, --new-secret ID) wherever an image's passphrase is taken.
Images are locked like QEMU locks them: one held by a VM or another program (or by another
of our operations) is refused with IMAGE_IN_USE; reading commands accept -U/--force-share.
Exit status: 0 ok, 1 error, 4 wrong passphrase, 5 image in use, 7 no space, 130 cancelled
(check: 2 corruptions, 3 leaks; a batch of images: 2 some skipped, 3 some failed).
--json (info, check, create, convert, migrate, keyslot, header, bundle, libvirt plan) prints
the result as JSON on stdout, and a failure as {"error": {"code", "message"}, "exitCode"}.
Run image-vault <command> --help for details.`;
}
