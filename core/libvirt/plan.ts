/**
 * The libvirt plan for an encrypted image: secret XML, disk XML and the human steps that
 * define the secret and set its value without the passphrase ever appearing on a command
 * line (issue #6, "Unattended boot"; docs/DESIGN.md "Secrets").
 */
import { resolve } from 'node:path';
import type { LibvirtPlan } from '../api/types.js';
import { diskXml, type LibvirtDiskFormat } from './disk-xml.js';
import { secretXml } from './secret-xml.js';
import { shellQuote } from './shell-quote.js';
import { checkUuid, randomUuid } from './uuid.js';

/** The connection URI used when none is given. */
export const DEFAULT_LIBVIRT_URI = 'qemu:///system';

export interface LibvirtPlanOptions {
  imagePath: string;
  format: LibvirtDiskFormat;
  /** Secret UUID; a fresh random one when absent. */
  uuid?: string;
  /** Connection URI, default `qemu:///system`. */
  uri?: string;
  description?: string;
}

/**
 * The host-bound storage note: libvirt keeps persistent secret values on the host that set
 * them, and since 12.1 seals them with a host key, so copying the secrets directory to
 * another host does not carry the value over.
 */
export const HOST_BOUND_NOTE =
  'The secret value lives only on the host where it was set: libvirt stores persistent ' +
  'secrets per host, and libvirt 12.1 and later seal them with a key bound to that host, so ' +
  'a copied /etc/libvirt/secrets directory does not work elsewhere. After moving the VM to ' +
  'another host, define the secret there and set its value again (the two secret steps).';

/** Steps that define a secret and set its value, shared by the plan and `PEER_MISSING`. */
export function secretSteps(opts: { uri: string; uuid: string; secretXmlFile: string }): string[] {
  const c = `virsh -c ${shellQuote(opts.uri)}`;
  return [
    `Define the secret (the XML holds no passphrase): ${c} secret-define ${shellQuote(opts.secretXmlFile)}`,
    `Set its value without putting the passphrase on a command line. Either type it at the ` +
      `prompt: ${c} secret-set-value --secret ${opts.uuid} --interactive ` +
      `— or put it in a file only root can read (exactly the passphrase bytes; a trailing ` +
      `newline counts as part of it) and run: ${c} secret-set-value --secret ${opts.uuid} ` +
      `--file PASSPHRASE_FILE --plain ; then remove the file: shred -u PASSPHRASE_FILE`,
  ];
}

/**
 * Builds the plan for an existing encrypted image. `imagePath` is made absolute (libvirt keys
 * volume secrets by absolute path). Pure: touches neither the file nor libvirt.
 */
export function libvirtPlan(opts: LibvirtPlanOptions): LibvirtPlan {
  const imagePath = resolve(opts.imagePath);
  const uuid = opts.uuid === undefined ? randomUuid() : checkUuid(opts.uuid);
  const uri = opts.uri ?? DEFAULT_LIBVIRT_URI;
  const c = `virsh -c ${shellQuote(uri)}`;
  const sXml = secretXml({
    uuid,
    volumePath: imagePath,
    ...(opts.description === undefined ? {} : { description: opts.description }),
  });
  const dXml = diskXml({ imagePath, format: opts.format, secretUuid: uuid });
  const steps = [
    `Save the secret XML below as secret.xml and the disk XML as disk.xml.`,
    ...secretSteps({ uri, uuid, secretXmlFile: 'secret.xml' }),
    `Check it is there (the value stays hidden, the secret is private): ${c} secret-list`,
    `Give your domain the disk: ${c} attach-device DOMAIN disk.xml --config ` +
      `(or paste disk.xml inside <devices> with: ${c} edit DOMAIN)`,
    `Start it: ${c} start DOMAIN — libvirt hands the secret to QEMU, nobody types a ` +
      `passphrase at boot.`,
    HOST_BOUND_NOTE,
  ];
  return { secretUuid: uuid, secretXml: sXml, diskXml: dXml, steps };
}
