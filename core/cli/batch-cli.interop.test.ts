/**
 * Issue #17 "Many images at once", through the real CLI against real QEMU: `keyslot change`
 * over five images (qemu-img's and ours, qcow2+LUKS and raw LUKS, one named by a list file)
 * while qemu-io holds one and another has a different passphrase. The held one is skipped
 * with its holder and left byte-identical, the wrong one fails alone and is left
 * byte-identical, the others change (judged by qemu-io opening them with the new passphrase
 * only); running the same command again finishes the held one and reports the rest as
 * already done. The `--json` report is checked against the contract's schema.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batchReportSchema } from '../api/batch-schemas.js';
import type { BatchItem, BatchReport } from '../api/types.js';
import { sha256Hex } from '../testing/bytes.js';
import { cli, spawnCli } from '../testing/cli.js';
import { holdWithQemuIo } from '../testing/lock-peers.js';
import { peerTestOptions, run, runQemuRetrying, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
const ITER = ['--iterations', '1000'];
const fileHash = async (p: string) => sha256Hex(await readFile(p));

describe('keyslot change over many images, one held by qemu-io', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const pw = (name: string) => join(dir, `${name}.pw`);
  const img = (name: string) => join(dir, name);
  const isLuks = (p: string) => p.endsWith('.luks');

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    for (const name of ['A', 'C', 'N', 'B']) {
      await writeFile(pw(name), `passphrase ${name}`, { mode: 0o600 });
    }
    // qemu-img's own qcow2+LUKS, passphrase A.
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'qcow2',
      '--object',
      `secret,id=s,file=${pw('A')}`,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
      img('qemu.qcow2'),
      '16M',
    ]);
    const ours = async (name: string, pass: string, format: 'qcow2' | 'luks') => {
      const args =
        format === 'qcow2'
          ? ['create', '-f', 'qcow2', '--encrypt', '-o', 'iterations=1000']
          : ['create', '-f', 'luks', '--pbkdf-force-iterations', '1000'];
      const r = await cli(...args, '--passphrase-file', pw(pass), img(name), '16M');
      assert.equal(r.code, 0, r.stderr);
    };
    await ours('ours.qcow2', 'A', 'qcow2');
    await ours('held.qcow2', 'A', 'qcow2');
    await ours('wrong.qcow2', 'C', 'qcow2');
    await ours('raw.luks', 'A', 'luks');
    await writeFile(
      join(dir, 'list.txt'),
      `# images of host 1\n\n${img('raw.luks')}\n  # the end\n`
    );
  });
  after(async () => cleanup?.());

  const qemuArgs = (p: string, name: string) => [
    '--object',
    `secret,id=k,file=${pw(name)}`,
    '--image-opts',
    isLuks(p)
      ? `driver=luks,file.filename=${p},key-secret=k`
      : `driver=qcow2,file.filename=${p},encrypt.key-secret=k`,
  ];

  /** Whether qemu-io opens `p` with passphrase `name` and reads from it. */
  async function qemuOpens(p: string, name: string): Promise<boolean> {
    const r = await run('qemu-io', ['-r', ...qemuArgs(p, name), '-c', 'read 0 4k']);
    if (r.code === 0 && !/error|failed/i.test(r.stdout + r.stderr)) return true;
    assert.match(r.stderr + r.stdout, /Invalid password|cannot unlock/i);
    return false;
  }

  const changeArgs = () => [
    'keyslot',
    'change',
    img('qemu.qcow2'),
    img('ours.qcow2'),
    img('held.qcow2'),
    img('wrong.qcow2'),
    '--list',
    join(dir, 'list.txt'),
    '--passphrase-file',
    pw('A'),
    '--new-passphrase-file',
    pw('N'),
    ...ITER,
    '--jobs',
    '2',
  ];
  const change = (...extra: string[]) => cli(...changeArgs(), ...extra);

  const byName = (report: BatchReport) =>
    Object.fromEntries(report.images.map((i) => [i.path.slice(dir.length + 1), i])) as Record<
      string,
      BatchItem
    >;

  test('held image skipped with its holder, wrong one failed alone, the rest changed; a re-run finishes', async () => {
    const untouched = {
      held: await fileHash(img('held.qcow2')),
      wrong: await fileHash(img('wrong.qcow2')),
    };
    const holder = await holdWithQemuIo(img('held.qcow2'), qemuArgs(img('held.qcow2'), 'A'));
    let first;
    try {
      // The real command, in its own process; the re-runs below run in this one.
      first = await spawnCli([...changeArgs(), '--json']);
    } finally {
      await holder.release();
    }
    assert.equal(first.code, 3, first.stderr);
    const doc = JSON.parse(first.stdout) as BatchReport & { exitCode: number };
    assert.equal(doc.exitCode, 3);
    const { exitCode: _, ...report } = doc;
    assert.deepEqual(batchReportSchema.parse(report), report, 'the report follows the schema');
    assert.equal(report.finished, true);
    assert.deepEqual(report.summary, {
      total: 5,
      changed: 3,
      unchanged: 0,
      skipped: 1,
      failed: 1,
      remaining: 0,
    });
    const items = byName(report);
    for (const n of ['qemu.qcow2', 'ours.qcow2', 'raw.luks']) {
      assert.equal(items[n]?.status, 'changed', n);
      assert.equal(typeof items[n]?.slot, 'number');
      assert.deepEqual(items[n]?.removed, [0]);
    }
    assert.equal(items['held.qcow2']?.status, 'skipped');
    assert.equal(items['held.qcow2']?.code, 'IMAGE_IN_USE');
    assert.equal(items['held.qcow2']?.holder?.holder, 'qemu-io');
    assert.equal(items['held.qcow2']?.holder?.pid, holder.pid);
    assert.equal(items['held.qcow2']?.holder?.writer, true);
    assert.equal(items['wrong.qcow2']?.status, 'failed');
    assert.equal(items['wrong.qcow2']?.code, 'WRONG_PASSPHRASE');

    assert.equal(await fileHash(img('held.qcow2')), untouched.held, 'held image not written');
    assert.equal(await fileHash(img('wrong.qcow2')), untouched.wrong, 'failed image not written');
    for (const n of ['qemu.qcow2', 'ours.qcow2', 'raw.luks']) {
      assert.equal(await qemuOpens(img(n), 'N'), true, `${n} opens with the new passphrase`);
      assert.equal(await qemuOpens(img(n), 'A'), false, `${n} no longer opens with the old`);
    }
    assert.equal(await qemuOpens(img('held.qcow2'), 'A'), true);
    assert.equal(await qemuOpens(img('wrong.qcow2'), 'C'), true);

    // The same command again, human report: the held one is done now, the rest already were.
    const second = await change();
    assert.equal(second.code, 3, second.stderr);
    const lines = second.stdout.trim().split('\n');
    const line = (n: string) => lines.find((l) => l.includes(img(n))) ?? '';
    assert.match(line('held.qcow2'), /^changed +\S+held\.qcow2: new passphrase in keyslot/);
    for (const n of ['qemu.qcow2', 'ours.qcow2', 'raw.luks']) {
      assert.match(line(n), /^unchanged .*already done: the new passphrase opens keyslot/);
    }
    assert.match(line('wrong.qcow2'), /^FAILED .*\[WRONG_PASSPHRASE\]/);
    assert.match(lines.at(-1) ?? '', /^5 images: 1 changed, 3 already done, 0 skipped, 1 failed/);
    assert.equal(await qemuOpens(img('held.qcow2'), 'N'), true);
    assert.equal(await qemuOpens(img('held.qcow2'), 'A'), false);
    assert.equal(await fileHash(img('wrong.qcow2')), untouched.wrong);

    // Without the odd one out every image is done: exit 0.
    const third = await cli(
      'keyslot',
      'change',
      img('qemu.qcow2'),
      img('held.qcow2'),
      '--passphrase-file',
      pw('A'),
      '--new-passphrase-file',
      pw('N'),
      ...ITER
    );
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.match(third.stdout, /2 images: 0 changed, 2 already done, 0 skipped, 0 failed/);
  });

  test('add and remove over many images are idempotent; all skipped exits 2', async () => {
    const images = [img('qemu.qcow2'), img('raw.luks')];
    const add = (...extra: string[]) =>
      cli(
        'keyslot',
        'add',
        ...images,
        '--passphrase-file',
        pw('N'),
        '--new-passphrase-file',
        pw('B'),
        ...ITER,
        '--json',
        ...extra
      );
    const added = await add();
    assert.equal(added.code, 0, added.stderr);
    const a = JSON.parse(added.stdout) as BatchReport;
    assert.deepEqual(
      a.images.map((i) => i.status),
      ['changed', 'changed']
    );
    for (const p of images) assert.equal(await qemuOpens(p, 'B'), true);
    const again = JSON.parse((await add()).stdout) as BatchReport;
    assert.deepEqual(
      again.images.map((i) => [i.status, i.slot]),
      a.images.map((i) => ['unchanged', i.slot])
    );

    const remove = () =>
      cli('keyslot', 'remove', ...images, '--passphrase-file', pw('B'), '--json');
    const removed = JSON.parse((await remove()).stdout) as BatchReport;
    assert.deepEqual(
      removed.images.map((i) => [i.status, i.removed]),
      a.images.map((i) => ['changed', [i.slot]])
    );
    for (const p of images) assert.equal(await qemuOpens(p, 'B'), false);
    const none = await remove();
    assert.equal(none.code, 0);
    assert.deepEqual(
      (JSON.parse(none.stdout) as BatchReport).images.map((i) => i.status),
      ['unchanged', 'unchanged']
    );

    // One image, --batch, held: skipped, exit 2, and the image still opens only with N.
    const holder = await holdWithQemuIo(img('qemu.qcow2'), qemuArgs(img('qemu.qcow2'), 'N'));
    try {
      const skipped = await add('--batch');
      assert.equal(skipped.code, 2, skipped.stderr);
    } finally {
      await holder.release();
    }
    assert.equal(await qemuOpens(img('qemu.qcow2'), 'B'), false);
  });

  test('single-image keyslot commands answer --json, failures too', async () => {
    const ok = await cli(
      'keyslot',
      'test',
      img('ours.qcow2'),
      '--passphrase-file',
      pw('N'),
      '--json'
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(Object.keys(JSON.parse(ok.stdout) as object).sort(), ['path', 'slot']);
    const bad = await cli(
      'keyslot',
      'test',
      img('ours.qcow2'),
      '--passphrase-file',
      pw('A'),
      '--json'
    );
    assert.equal(bad.code, 4);
    const err = JSON.parse(bad.stdout) as { error: { code: string }; exitCode: number };
    assert.equal(err.error.code, 'WRONG_PASSPHRASE');
    assert.equal(err.exitCode, 4);
  });
});
