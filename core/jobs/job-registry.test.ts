import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fail } from '../api/errors.js';
import type { JobInfo } from '../api/types.js';
import { JobRegistry } from './job-registry.js';

test('a successful job reports its result and notifies subscribers', async () => {
  const reg = new JobRegistry();
  const events: JobInfo[] = [];
  const unsubscribe = reg.subscribe((j) => events.push(j));
  const info = reg.start('convert', 'a → b', async (ctx) => {
    ctx.progress.setPhase('copying', 10);
    ctx.progress.advance(10);
    return { target: 'b' };
  });
  assert.equal(info.state, 'running');
  const end = await reg.wait(info.id);
  assert.equal(end.state, 'succeeded');
  assert.deepEqual(end.result, { target: 'b' });
  assert.equal(end.progress.bytesDone, 10);
  assert.ok(end.endedAt !== undefined);
  assert.equal(events.at(-1)?.state, 'succeeded');
  assert.ok(events.some((e) => e.progress.phase === 'copying'));
  assert.equal(reg.list().length, 1);
  assert.equal(reg.get(info.id)?.state, 'succeeded');
  unsubscribe();
  await reg.wait(reg.start('verify', 'x', async () => ({})).id);
  assert.equal(events.filter((e) => e.kind === 'verify').length, 0);
});

test('a failing job carries the error code', async () => {
  const reg = new JobRegistry();
  const info = reg.start('convert', 'x', async () => {
    throw fail('NO_SPACE', 'disk full');
  });
  const end = await reg.wait(info.id);
  assert.equal(end.state, 'failed');
  assert.deepEqual(end.error, { code: 'NO_SPACE', message: 'disk full' });
  const other = await reg.wait(
    reg.start('convert', 'y', async () => {
      throw Object.assign(new Error('boom'), { code: 'ENOENT', path: '/nope' });
    }).id
  );
  assert.equal(other.error?.code, 'NOT_FOUND');
});

test('cancel aborts the signal mid-run and ends in state cancelled', async () => {
  const reg = new JobRegistry();
  let iterations = 0;
  const info = reg.start('convert', 'x', async (ctx) => {
    for (;;) {
      ctx.throwIfCancelled();
      iterations++;
      if (iterations === 5) assert.equal(reg.cancel(info.id), true);
      await new Promise((r) => setTimeout(r, 1));
    }
  });
  const end = await reg.wait(info.id);
  assert.equal(end.state, 'cancelled');
  assert.equal(end.error?.code, 'CANCELLED');
  assert.equal(iterations, 5);
  assert.equal(reg.cancel(info.id), false);
  await assert.rejects(reg.wait('nope'), { code: 'NOT_FOUND' });
});
