/**
 * Issue #13: `bundle import` killed (SIGKILL) at random points leaves either no target (a
 * re-run starts over) or a finished target already re-keyed to the recipient's secret (a
 * re-run recognises it and completes); never an image still on the sender's secret with a
 * re-run failing on EXISTS. Counts the outcomes and prints them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI_BIN, cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('ssh-keygen', 'age');
const KILLS = 16;

function runKilled(
  args: string[],
  afterMs: number
): Promise<{ code: number | null; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, killed: signal === 'SIGKILL' });
    });
  });
}

describe('bundle import under kill -9', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let key: string;
  let bundle: string;
  let handed: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-kill-'));
    const raw = join(dir, 'plain.raw');
    const data = Buffer.alloc(48 << 20);
    for (let i = 0; i < 6; i++) data.set(patternBytes(4 << 20, i + 1), i * (8 << 20));
    await writeFile(raw, data);
    key = join(dir, 'id');
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    bundle = join(dir, 'b.tar');
    const r = await cli(
      'bundle',
      'export',
      '--to',
      `${key}.pub`,
      '-o',
      'iterations=1000',
      raw,
      bundle
    );
    assert.equal(r.code, 0, r.stderr);
    await runOk('tar', ['-xf', bundle, '-C', dir, 'b/secret.age']);
    handed = join(dir, 'handed.pw');
    await runOk('age', ['-d', '-i', key, '-o', handed, join(dir, 'b', 'secret.age')]);
  });
  after(() => cleanup());

  test(`${KILLS} random SIGKILLs: nothing or a finished re-keyed target; every re-run completes`, async () => {
    const target = join(dir, 'vm.qcow2');
    const args = ['bundle', 'import', '--identity', key, '-o', 'iterations=1000', bundle, target];
    const t0 = Date.now();
    const full = await runKilled(args, 60_000);
    const duration = Date.now() - t0;
    assert.equal(full.code, 0);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < KILLS; i++) {
      await rm(target, { force: true });
      await rm(`${target}.secret.age`, { force: true });
      const delay = Math.floor(80 + Math.random() * duration);
      const k = await runKilled(args, delay);
      const names = (await readdir(dir)).filter((n) => n.startsWith('vm.qcow2'));
      let outcome: string;
      if (!k.killed) outcome = 'finished before the kill';
      else if (names.includes('vm.qcow2')) {
        // A finished target must already be on the recipient's secret, not the sender's.
        const t = await cli('keyslot', 'test', target, '--passphrase-file', handed);
        assert.equal(t.code, 4, `kill ${i} at ${delay} ms left a target the sender's secret opens`);
        outcome = 'killed: target finished and re-keyed';
      } else if (names.length === 0) outcome = 'killed: nothing left';
      else outcome = 'killed: partial files left';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const again = await cli(...args);
      assert.equal(
        again.code,
        0,
        `re-run after kill ${i} (${delay} ms, ${outcome}): ${again.stderr}`
      );
      const mine = join(dir, 'mine.pw');
      await runOk('age', ['-d', '-i', key, '-o', mine, `${target}.secret.age`]);
      assert.equal((await cli('keyslot', 'test', target, '--passphrase-file', mine)).code, 0);
      assert.equal((await cli('keyslot', 'test', target, '--passphrase-file', handed)).code, 4);
      assert.deepEqual(
        (await readdir(dir)).filter((n) => n.startsWith('vm.qcow2')).sort(),
        ['vm.qcow2', 'vm.qcow2.secret.age'],
        'a completed re-run leaves no partial files'
      );
    }
    console.log(
      `bundle import kill -9 outcomes (${KILLS} runs, import ≈ ${duration} ms):`,
      outcomes
    );
  });
});
