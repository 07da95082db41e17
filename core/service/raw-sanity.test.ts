import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryDevice } from '../io/memory-device.js';
import { looksLikeText, rawDiskWarnings } from './raw-sanity.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('raw disk sanity', () => {
  it('tells text from sectors', () => {
    assert.equal(looksLikeText(enc('notes: buy milk\nüber 3 €\n')), true);
    assert.equal(looksLikeText(new Uint8Array(512)), false, 'zeros are a blank disk');
    const mbr = new Uint8Array(512).fill(0x41);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    assert.equal(looksLikeText(mbr), false);
    // A UTF-8 character cut by the sample's end is still text.
    assert.equal(looksLikeText(enc('ab€').subarray(0, 4)), true);
  });

  it('warns for text files, odd sizes and empty files, and not for a blank disk', async () => {
    const text = enc('hello world\n'.repeat(100));
    const dev = new MemoryDevice(text);
    assert.match((await rawDiskWarnings(dev, text.length))[0] ?? '', /looks like text/);
    const odd = new Uint8Array(1000).fill(0xff);
    assert.match(
      (await rawDiskWarnings(new MemoryDevice(odd), 1000))[0] ?? '',
      /not a whole number of 512-byte sectors/
    );
    assert.match((await rawDiskWarnings(new MemoryDevice(), 0))[0] ?? '', /empty/);
    const disk = new Uint8Array(8192);
    assert.deepEqual(await rawDiskWarnings(new MemoryDevice(disk), disk.length), []);
  });
});
