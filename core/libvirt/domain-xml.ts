/**
 * A minimal libvirt domain for tests and for "does it start?" checks: TCG (`type='qemu'`), no
 * boot medium, no graphics, serial console to a file, 64 MiB. Starting it makes QEMU open
 * every disk, which for an encrypted disk proves the LUKS header was unlocked with the secret.
 */
import { isAbsolute } from 'node:path';
import { fail } from '../api/errors.js';
import { escapeAttr, escapeText } from './xml-escape.js';

export interface DomainXmlOptions {
  name: string;
  /** `<disk>` elements, e.g. from `diskXml()`. */
  disks: string[];
  /** Absolute path of the serial console log; without it the serial port is a `null` device. */
  serialLogPath?: string;
  memoryMiB?: number;
  emulator?: string;
  machine?: string;
}

/** Builds a `<domain type='qemu'>` for x86_64 with the given disks. */
export function minimalDomainXml(opts: DomainXmlOptions): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(opts.name)) {
    throw fail('INVALID_ARGUMENT', 'Domain names here are letters, digits, dot, dash, underscore');
  }
  const mem = opts.memoryMiB ?? 64;
  if (!Number.isInteger(mem) || mem < 16 || mem > 65536) {
    throw fail('INVALID_ARGUMENT', 'Domain memory must be 16..65536 MiB');
  }
  if (opts.serialLogPath !== undefined && !isAbsolute(opts.serialLogPath)) {
    throw fail('INVALID_ARGUMENT', 'The serial log path must be absolute');
  }
  const emulator = opts.emulator ?? '/usr/bin/qemu-system-x86_64';
  const serial =
    opts.serialLogPath === undefined
      ? `    <serial type='null'/>`
      : [
          `    <serial type='file'>`,
          `      <source path='${escapeAttr(opts.serialLogPath, 'The serial log path')}'/>`,
          `    </serial>`,
        ].join('\n');
  const disks = opts.disks.map((d) =>
    d
      .trimEnd()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')
  );
  return [
    `<domain type='qemu'>`,
    `  <name>${opts.name}</name>`,
    `  <memory unit='MiB'>${mem}</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='${escapeAttr(opts.machine ?? 'pc')}'>hvm</type>`,
    `  </os>`,
    `  <on_reboot>destroy</on_reboot>`,
    `  <devices>`,
    `    <emulator>${escapeText(emulator, 'The emulator path')}</emulator>`,
    ...disks,
    serial,
    `    <video>`,
    `      <model type='none'/>`,
    `    </video>`,
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}
