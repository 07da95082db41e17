/**
 * The batch runner (batch.ts) with stand-in actions: at most `jobs` images at a time, one
 * image's error never stops the others, in-use images are skipped, cancelling starts no
 * further image, duplicates run once, and requests no image could satisfy are refused first.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fail, isVaultError } from '../api/errors.js';
import type { BatchReport, BatchRequest } from '../api/types.js';
import { runBatch } from './batch.js';
import type { BatchAction } from './batch-actions.js';

const enc = (s: string) => new TextEncoder().encode(s);
const request = (paths: string[], jobs?: number): BatchRequest => ({
  operation: 'keyslot-change',
  paths,
  passphrase: enc('old'),
  newPassphrase: enc('new'),
  ...(jobs ? { jobs } : {}),
});
const tick = () => new Promise((r) => setImmediate(r));

describe('batch runner', () => {
  test('runs at most `jobs` images at once and reports every one', async () => {
    let running = 0;
    let peak = 0;
    const action: BatchAction = async (_req, path) => {
      running++;
      peak = Math.max(peak, running);
      for (let i = 0; i < 3; i++) await tick();
      running--;
      if (path.endsWith('bad')) throw fail('CORRUPT', 'broken header');
      if (path.endsWith('busy')) throw fail('IMAGE_IN_USE', `${path} is in use`);
      return { status: 'changed', slot: 1, removed: [0], reason: 'done' };
    };
    const paths = ['/i/a', '/i/bad', '/i/c', '/i/busy', '/i/e', '/i/f', '/i/a'];
    const updates: BatchReport[] = [];
    const report = await runBatch(request(paths, 3), { action, onUpdate: (r) => updates.push(r) });
    assert.equal(peak, 3);
    assert.deepEqual(
      report.images.map((i) => [i.path, i.status, i.code]),
      [
        ['/i/a', 'changed', undefined],
        ['/i/bad', 'failed', 'CORRUPT'],
        ['/i/c', 'changed', undefined],
        ['/i/busy', 'skipped', 'IMAGE_IN_USE'],
        ['/i/e', 'changed', undefined],
        ['/i/f', 'changed', undefined],
      ]
    );
    assert.deepEqual(report.summary, {
      total: 6,
      changed: 4,
      unchanged: 0,
      skipped: 1,
      failed: 1,
      remaining: 0,
    });
    assert.equal(report.finished, true);
    assert.equal(report.cancelled, false);
    // Every status change was reported: pending → running → final for each image, plus start/end.
    assert.equal(updates.length, 1 + 6 * 2 + 1);
    assert.equal(updates[0]?.summary.remaining, 6);
    assert.ok(updates.some((u) => u.images.some((i) => i.status === 'running')));
  });

  test('cancelling starts no further image; started ones finish', async () => {
    const controller = new AbortController();
    const started: string[] = [];
    const action: BatchAction = async (_req, path) => {
      started.push(path);
      if (started.length === 2) controller.abort();
      await tick();
      return { status: 'changed', reason: 'done' };
    };
    const report = await runBatch(request(['/i/1', '/i/2', '/i/3', '/i/4']), {
      action,
      signal: controller.signal,
    });
    assert.deepEqual(started, ['/i/1', '/i/2']);
    assert.deepEqual(
      report.images.map((i) => [i.status, i.code]),
      [
        ['changed', undefined],
        ['changed', undefined],
        ['skipped', 'CANCELLED'],
        ['skipped', 'CANCELLED'],
      ]
    );
    assert.equal(report.cancelled, true);
  });

  test('refuses equal passphrases and a remove that names nothing, before any image', async () => {
    const action: BatchAction = () => assert.fail('no image may be touched');
    await assert.rejects(
      runBatch({ ...request(['/i/a']), newPassphrase: enc('old') }, { action }),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
    await assert.rejects(
      runBatch({ operation: 'keyslot-remove', paths: ['/i/a'] }, { action }),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
  });
});
