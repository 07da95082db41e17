/**
 * `HeaderIO` helpers: a HeaderIO over the start of a raw device (raw LUKS), and bounded reads
 * that turn short regions into `TRUNCATED` errors.
 */
import { fail } from '../../api/errors.js';
import { readInto, type BlockDevice } from '../../io/block-device.js';
import type { HeaderIO } from '../encryption.js';

/**
 * A `HeaderIO` over `[0, length)` of `dev` (raw LUKS: the header is at the device start).
 * Reads and writes beyond `length` are refused; short reads are `TRUNCATED`.
 */
export function headerIOForDevice(dev: BlockDevice, length: number): HeaderIO {
  const check = (buf: Uint8Array, position: number): void => {
    if (position < 0 || position + buf.length > length) {
      throw fail('TRUNCATED', `LUKS header access beyond its ${length}-byte region`);
    }
  };
  return {
    length,
    read: async (buf, position) => {
      check(buf, position);
      await readInto(dev, buf, position, 'LUKS header');
    },
    write: async (buf, position) => {
      check(buf, position);
      await dev.write(buf, position);
    },
    flush: () => dev.flush(),
  };
}

/** Reads `length` bytes at `position` of `io`, refusing regions outside it with TRUNCATED. */
export async function readHeaderBytes(
  io: HeaderIO,
  position: number,
  length: number,
  what: string
): Promise<Uint8Array> {
  if (position < 0 || length < 0 || position + length > io.length) {
    throw fail('TRUNCATED', `The LUKS ${what} lies beyond the end of the header region`);
  }
  const buf = new Uint8Array(length);
  await io.read(buf, position);
  return buf;
}
