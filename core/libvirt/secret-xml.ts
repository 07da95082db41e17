/**
 * libvirt secret XML for a LUKS passphrase (libvirt "Secret XML format", usage type volume).
 *
 * The XML describes the secret; its value is never inside it. It is set separately with
 * `virsh secret-set-value` from a file or stdin (see `virsh.ts`, `plan.ts`).
 */
import { isAbsolute } from 'node:path';
import { fail } from '../api/errors.js';
import { escapeText } from './xml-escape.js';
import { checkUuid } from './uuid.js';

export interface SecretXmlOptions {
  uuid: string;
  /** Absolute path of the encrypted image (the `<usage type='volume'>` key). */
  volumePath: string;
  description?: string;
  /** Keep the secret only in memory (`ephemeral='yes'`). Default false: persistent. */
  ephemeral?: boolean;
  /**
   * Refuse to reveal the value to any libvirt caller (`private='yes'`). Default true; tests
   * that read the value back (`secret-get-value`) pass false.
   */
  private?: boolean;
}

/**
 * Builds `<secret ephemeral='no' private='yes'>` with uuid, description and
 * `<usage type='volume'><volume>PATH</volume></usage>`. libvirt allows only one secret per
 * usage key, so a second image at the same path needs the old secret undefined first.
 */
export function secretXml(opts: SecretXmlOptions): string {
  const uuid = checkUuid(opts.uuid);
  if (!isAbsolute(opts.volumePath)) {
    throw fail('INVALID_ARGUMENT', 'The volume path in a libvirt secret must be absolute');
  }
  const eph = opts.ephemeral === true ? 'yes' : 'no';
  const priv = opts.private === false ? 'no' : 'yes';
  const description = opts.description ?? `Image Vault: LUKS passphrase for ${opts.volumePath}`;
  return [
    `<secret ephemeral='${eph}' private='${priv}'>`,
    `  <uuid>${uuid}</uuid>`,
    `  <description>${escapeText(description, 'The description')}</description>`,
    `  <usage type='volume'>`,
    `    <volume>${escapeText(opts.volumePath, 'The image path')}</volume>`,
    `  </usage>`,
    `</secret>`,
    '',
  ].join('\n');
}
