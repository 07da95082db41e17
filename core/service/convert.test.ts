/** The output wrapper of conversions keeps the writer's contract and owns its device. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestWriter } from '../formats/image.js';
import { owningWriter } from './convert.js';

function fakeWriter(log: string[], concurrentWrites?: number): GuestWriter {
  return {
    virtualSize: 1 << 20,
    granularity: 65536,
    ...(concurrentWrites ? { concurrentWrites } : {}),
    write: async (_b, off) => void log.push(`write ${off}`),
    flush: async () => void log.push('flush'),
    close: async () => void log.push('writer closed'),
  };
}

describe('owningWriter', () => {
  it('forwards sizes, overlap allowance and calls; closes the device after the writer', async () => {
    const log: string[] = [];
    const w = owningWriter(fakeWriter(log, 4), { close: async () => void log.push('dev closed') });
    assert.equal(w.virtualSize, 1 << 20);
    assert.equal(w.granularity, 65536);
    assert.equal(w.concurrentWrites, 4, 'the copy loop reads this to overlap writes');
    await w.write(new Uint8Array(65536), 65536);
    await w.flush();
    await w.close();
    assert.deepEqual(log, ['write 65536', 'flush', 'writer closed', 'dev closed']);
    assert.equal(
      owningWriter(fakeWriter([]), { close: async () => {} }).concurrentWrites,
      undefined
    );
  });

  it('closes the device even when closing the writer fails', async () => {
    let devClosed = false;
    const w = owningWriter(
      { ...fakeWriter([]), close: async () => Promise.reject(new Error('disk full')) },
      { close: async () => void (devClosed = true) }
    );
    await assert.rejects(w.close(), /disk full/);
    assert.ok(devClosed);
  });
});
