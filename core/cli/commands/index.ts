/** The CLI's command table and top-level usage. */
import type { CliIo } from '../io.js';
import { bundleCommand, libvirtCommand } from './bundle.js';
import { convertCommand, migrateCommand } from './convert.js';
import { createCommand } from './create.js';
import { checkCommand, infoCommand } from './info.js';
import { keyslotCommand } from './keyslot.js';
import { serveCommand } from './serve.js';

export interface Command {
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  info: infoCommand,
  check: checkCommand,
  create: createCommand,
  convert: convertCommand,
  migrate: migrateCommand,
  keyslot: keyslotCommand,
  bundle: bundleCommand,
  libvirt: libvirtCommand,
  serve: serveCommand,
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
  bundle export|import                hand an encrypted VM to someone
  libvirt plan IMAGE                  libvirt secret + disk XML for unattended boot
  serve [--port N]                    the UI on a loopback port (for headless hosts)

Global: --debug (stack traces), --help, --version. Passphrases are read from
--…passphrase-file F (- = stdin), --…passphrase-fd N, or a terminal prompt; never from argv.
Run image-vault <command> --help for details.`;
}
