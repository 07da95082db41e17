/* eslint-disable no-restricted-imports -- this test runs in Node (npx tsx --test), not in the page */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobInfo, VaultEvent } from '../../../core/api/index.js';
import { createFakeApi } from './fake.js';
import { describeError, errorCode } from './errors.js';
import { encodeBytes } from '../../../core/api/wire.js';
import { estimateStrength } from '../lib/strength.js';
import { generatePassphrase } from '../lib/generator.js';
import { formatBytes, formatDuration } from '../lib/format.js';

const enc = (s: string) => new TextEncoder().encode(s);
const PATH = '/home/demo/vm/web-server.qcow2';

describe('in-memory fake VaultApi', () => {
  it('manages keyslots with last-slot protection and typed errors', async () => {
    const api = createFakeApi();
    assert.deepEqual(await api.keyslotTest(PATH, enc('correct horse')), { slot: 0 });
    await assert.rejects(
      api.keyslotTest(PATH, enc('nope')),
      (e) => errorCode(e) === 'WRONG_PASSPHRASE'
    );
    await assert.rejects(
      api.keyslotRemove({ path: PATH, slot: 0 }),
      (e) => errorCode(e) === 'LAST_KEYSLOT'
    );
    assert.deepEqual(
      await api.keyslotAdd({
        path: PATH,
        passphrase: enc('correct horse'),
        newPassphrase: enc('two'),
      }),
      { slot: 1 }
    );
    assert.deepEqual(await api.keyslotRemove({ path: PATH, passphrase: enc('correct horse') }), {
      removed: [0],
    });
    const info = await api.inspect(PATH);
    assert.deepEqual(info.encryption?.slots.map((s) => s.active).slice(0, 2), [false, true]);
  });

  it('runs jobs with progress events and cancels them', async () => {
    const api = createFakeApi({ jobStepMs: 5 });
    const events: JobInfo[] = [];
    api.subscribe((e: VaultEvent) => {
      if (e.type === 'job') events.push(e.job);
    });
    const job = await api.startConvert({
      source: PATH,
      target: '/home/demo/vm/out.qcow2',
      format: 'qcow2',
    });
    await new Promise((r) => setTimeout(r, 20));
    await api.cancelJob(job.id);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(events.at(-1)?.state, 'cancelled');
    assert.ok(events.some((e) => e.state === 'running' && e.progress.bytesDone > 0));
    const listing = await api.listDirectory('/home/demo/vm');
    assert.ok(!listing.entries.some((e) => e.name === 'out.qcow2'));
  });
});

describe('renderer helpers', () => {
  it('encodes bytes for the loopback wire', () => {
    assert.deepEqual(encodeBytes(['/a', { passphrase: enc('hi'), n: 1 }]), [
      '/a',
      { passphrase: { $b64: 'aGk=' }, n: 1 },
    ]);
  });
  it('says a wrong passphrase as such', () => {
    assert.match(describeError({ code: 'WRONG_PASSPHRASE', message: 'x' }), /^Wrong passphrase/);
  });
  it('rates passphrases and generates strong ones', () => {
    assert.ok(estimateStrength('password1').score <= 1);
    assert.ok(estimateStrength('abc').score === 0);
    const g = generatePassphrase();
    assert.match(g, /^([a-z2-9]{4}-){5}[a-z2-9]{4}$/);
    assert.ok(estimateStrength(g).score >= 3);
    assert.notEqual(generatePassphrase(), g);
  });
  it('formats sizes and durations in plain words', () => {
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(20 * 1024 ** 3), '20.0 GiB');
    assert.equal(formatDuration(0.01), 'under a second');
    assert.equal(formatDuration(150), '3 min');
  });
});
