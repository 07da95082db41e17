import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Progress } from '../api/types.js';
import { ProgressReporter } from './progress.js';

function fakeClock() {
  let t = 1000;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

test('rate, ETA and phase resets follow the fake clock', () => {
  const c = fakeClock();
  const p = new ProgressReporter({ clock: c.now, smoothing: 0.5 });
  p.setPhase('copying', 1000);
  c.tick(1000);
  p.advance(100); // 100 B/s
  let s = p.snapshot();
  assert.equal(s.bytesPerSecond, 100);
  assert.equal(s.etaSeconds, 9);
  c.tick(1000);
  p.advance(300); // instant 300 B/s, smoothed 0.5*300 + 0.5*100 = 200
  s = p.snapshot();
  assert.equal(s.bytesDone, 400);
  assert.equal(s.bytesPerSecond, 200);
  assert.equal(s.etaSeconds, 3);
  p.setPhase('verifying', 50);
  s = p.snapshot();
  assert.deepEqual(s, {
    phase: 'verifying',
    bytesDone: 0,
    bytesTotal: 50,
    bytesPerSecond: 0,
    etaSeconds: null,
  });
  p.advance(50);
  assert.equal(p.snapshot().etaSeconds, 0);
});

test('updates are throttled to one per interval; phase changes and flush always emit', () => {
  const c = fakeClock();
  const seen: Progress[] = [];
  const p = new ProgressReporter({ clock: c.now, onUpdate: (x) => seen.push(x) });
  p.setPhase('copying', 10_000);
  assert.equal(seen.length, 1);
  for (let i = 0; i < 100; i++) {
    c.tick(5); // 100 updates over 500 ms
    p.advance(10);
  }
  assert.ok(seen.length <= 1 + 5, `too many updates: ${seen.length}`);
  assert.ok(seen.length >= 1 + 4, `too few updates: ${seen.length}`);
  p.advance(10);
  assert.equal(p.hasPending, true);
  p.flush();
  assert.equal(seen.at(-1)?.bytesDone, 1010);
  p.setPhase('finishing');
  assert.equal(seen.at(-1)?.phase, 'finishing');
});

test('skipTo does not count resumed bytes as speed', () => {
  const c = fakeClock();
  const p = new ProgressReporter({ clock: c.now });
  p.setPhase('copying', 1000);
  c.tick(1000);
  p.skipTo(900);
  c.tick(1000);
  p.advance(10);
  assert.equal(p.snapshot().bytesPerSecond, 10);
  assert.equal(p.snapshot().etaSeconds, 9);
});

test('a held-back update is emitted once the interval has passed', async () => {
  const seen: Progress[] = [];
  const p = new ProgressReporter({ minIntervalMs: 20, onUpdate: (x) => seen.push(x) });
  p.setPhase('copying', 100);
  p.advance(1);
  p.advance(2);
  assert.equal(seen.length, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(seen.length, 2);
  assert.equal(seen.at(-1)?.bytesDone, 3);
  assert.equal(p.hasPending, false);
});
