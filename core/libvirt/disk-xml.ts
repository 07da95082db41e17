/**
 * libvirt domain `<disk>` XML for an encrypted image (libvirt "Domain XML format", hard
 * drives; "Storage volume encryption XML format").
 *
 * Where `<encryption>` goes: since libvirt 3.9 the preferred place is inside `<source>` (the
 * older place, a direct child of `<disk>`, is still parsed). For qcow2 the LUKS header lives
 * inside the qcow2 file (docs/spec/qcow2-luks.md), so the driver type is `qcow2`; for a raw LUKS
 * file (docs/spec/luks1.md) the driver type is `raw` and `engine='qemu'` (libvirt >= 7.9) makes
 * QEMU's own LUKS driver decrypt it.
 */
import { isAbsolute } from 'node:path';
import type { ImageFormat } from '../api/types.js';
import { fail } from '../api/errors.js';
import { escapeAttr } from './xml-escape.js';
import { checkUuid } from './uuid.js';

/** The encrypted formats libvirt can start: qcow2 with embedded LUKS, or a raw LUKS file. */
export type LibvirtDiskFormat = 'qcow2' | 'luks';

export interface DiskXmlOptions {
  imagePath: string;
  format: LibvirtDiskFormat;
  secretUuid: string;
  /** Guest device name, default `vda`. */
  targetDev?: string;
  /** Default `virtio`. */
  bus?: 'virtio' | 'sata' | 'scsi' | 'ide' | 'usb';
  /** Indent every line by this many spaces (e.g. 4 inside `<devices>`). */
  indent?: number;
}

/**
 * Maps an image's detected format to the libvirt disk format, refusing what libvirt cannot
 * unlock unattended: plain images (nothing to unlock) and legacy qcow AES (libvirt dropped
 * it; migrate to LUKS first, docs/spec/legacy-aes.md).
 */
export function libvirtDiskFormat(
  format: ImageFormat,
  encryption?: 'luks' | 'aes'
): LibvirtDiskFormat {
  if (format === 'luks') return 'luks';
  if (format === 'qcow2' && encryption === 'luks') return 'qcow2';
  if (encryption === 'aes' || format === 'qcow') {
    throw fail(
      'UNSUPPORTED_FEATURE',
      'libvirt cannot start images with legacy qcow AES encryption; migrate the image to LUKS first'
    );
  }
  throw fail('NOT_ENCRYPTED', 'The image is not encrypted, so libvirt needs no secret for it');
}

/** Builds the `<disk type='file' device='disk'>` element for `format`. */
export function diskXml(opts: DiskXmlOptions): string {
  const uuid = checkUuid(opts.secretUuid);
  if (!isAbsolute(opts.imagePath)) {
    throw fail('INVALID_ARGUMENT', 'The image path in a libvirt disk must be absolute');
  }
  const dev = opts.targetDev ?? 'vda';
  if (!/^[a-z]{2,3}[a-z]{1,3}$/.test(dev)) {
    throw fail('INVALID_ARGUMENT', 'The target device name must look like vda, sdb or hdc');
  }
  const driverType = opts.format === 'qcow2' ? 'qcow2' : 'raw';
  const engine = opts.format === 'luks' ? ` engine='qemu'` : '';
  const pad = ' '.repeat(opts.indent ?? 0);
  const lines = [
    `<disk type='file' device='disk'>`,
    `  <driver name='qemu' type='${driverType}'/>`,
    `  <source file='${escapeAttr(opts.imagePath, 'The image path')}'>`,
    `    <encryption format='luks'${engine}>`,
    `      <secret type='passphrase' uuid='${uuid}'/>`,
    `    </encryption>`,
    `  </source>`,
    `  <target dev='${dev}' bus='${opts.bus ?? 'virtio'}'/>`,
    `</disk>`,
  ];
  return lines.map((l) => pad + l).join('\n') + '\n';
}
