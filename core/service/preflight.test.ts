// Pre-start checks (issue #14): each problem is reported at the field at fault.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchDir } from '../testing/peers.js';
import { createImage } from './create.js';
import { preflight } from './preflight.js';

const enc = (s: string) => new TextEncoder().encode(s);
const MiB = 2 ** 20;

test('preflight reports a taken name, a wrong passphrase, the worst case and libvirt', async () => {
  const { dir, cleanup } = await scratchDir('iv-preflight-');
  try {
    const src = join(dir, 'src.qcow2');
    await createImage({
      path: src,
      format: 'qcow2',
      virtualSize: 4 * MiB,
      passphrase: enc('right-one'),
      encryption: { iterations: 1000 },
    });
    const taken = join(dir, 'taken.qcow2');
    await writeFile(taken, 'x');
    const ok = await preflight({
      kind: 'convert',
      source: src,
      target: join(dir, 'out.qcow2'),
      sourcePassphrase: enc('right-one'),
    });
    assert.deepEqual(ok.problems, []);
    assert.equal(ok.ok, true);
    assert.ok(ok.bytesNeeded >= 4 * MiB);

    const bad = await preflight({
      kind: 'convert',
      source: src,
      target: taken,
      sourcePassphrase: enc('wrong-one'),
    });
    assert.equal(bad.ok, false);
    assert.deepEqual(bad.problems.map((p) => [p.field, p.code]).sort(), [
      ['sourcePassphrase', 'WRONG_PASSPHRASE'],
      ['target', 'EXISTS'],
    ]);
    const replaced = await preflight({
      kind: 'convert',
      source: src,
      target: taken,
      overwrite: true,
      sourcePassphrase: enc('right-one'),
    });
    assert.deepEqual(replaced.problems, []);

    // A sparse image larger than the disk: a warning (fits only while sparse).
    const huge = join(dir, 'huge.qcow2');
    await createImage({ path: huge, format: 'qcow2', virtualSize: 2 ** 50 });
    const big = await preflight({ kind: 'convert', source: huge, target: join(dir, 'h.img') });
    assert.equal(big.ok, true);
    assert.deepEqual(
      big.problems.map((p) => [p.field, p.severity]),
      [['space', 'warning']]
    );

    const lv = await preflight({
      kind: 'convert',
      source: huge,
      target: join(dir, 'nowhere', 'x.img'),
      libvirtUri: 'test+unix:///nonexistent?socket=/nonexistent/sock',
    });
    assert.deepEqual(lv.problems.map((p) => p.field).sort(), ['libvirt', 'target']);
  } finally {
    await cleanup();
  }
});
