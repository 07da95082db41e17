/**
 * The in-memory fake's images (fake.ts): their info as inspect reports it, and the
 * passphrase text per keyslot that stands in for real key material.
 */
import type { ImageInfo, KeyslotInfo } from '../../../core/api/index.js';

export interface FakeImage {
  info: ImageInfo;
  /** Passphrase text per slot (the fake's private state; never leaves this module). */
  slots: (string | null)[];
}

export function slotInfos(slots: (string | null)[], iterations: number): KeyslotInfo[] {
  return slots.map((s, slot) => ({
    slot,
    active: s !== null,
    iterations: s !== null ? iterations : 0,
    stripes: 4000,
    keyOffset: 8 + slot * 512,
  }));
}

export function makeImage(
  path: string,
  format: ImageInfo['format'],
  size: number,
  enc: 'luks' | 'aes' | 'none',
  pass?: string
): FakeImage {
  const slots: (string | null)[] = Array.from({ length: 8 }, () => null);
  if (enc === 'luks' && pass) slots[0] = pass;
  const info: ImageInfo = {
    path,
    format,
    virtualSize: size,
    actualSize: Math.round(size / 97),
    fileSize: Math.round(size / 90),
    clusterSize: format === 'qcow2' || format === 'qcow' ? 65536 : undefined,
    compat: format === 'qcow2' ? '1.1' : undefined,
    backingChain: [],
    snapshots: [],
    encrypted: enc !== 'none',
    warnings:
      enc === 'aes' ? ['Legacy AES encryption is insecure; migrate this image to LUKS.'] : [],
  };
  if (enc === 'luks') {
    info.encryption = {
      format: 'luks',
      version: 1,
      cipherAlg: 'aes-256',
      cipherMode: 'xts',
      ivgenAlg: 'plain64',
      hashAlg: 'sha256',
      uuid: 'c0ffee00-1234-4cde-8f00-5a5a5a5a5a5a',
      payloadOffset: 2068480,
      masterKeyIters: 143_000,
      slots: slotInfos(slots, 1_912_000),
    };
  } else if (enc === 'aes') {
    info.encryption = {
      format: 'aes',
      cipherAlg: 'aes-128',
      cipherMode: 'cbc',
      ivgenAlg: 'plain64',
      slots: [],
      insecure: true,
    };
  }
  return { info, slots };
}

/** Creates a fresh fake with a few demo images under /home/demo/vm. */
