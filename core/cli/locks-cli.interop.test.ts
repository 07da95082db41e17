/**
 * Issue #13 "Locks", through the real CLI against real QEMU processes, both directions
 * (README "Image locks"): an image qemu-io holds is refused by every write with
 * IMAGE_IN_USE (exit 5) naming qemu-io's PID and left byte-identical; reads need -U while a
 * writer holds it and share with readers; QEMU refuses an image while our keyslot operation
 * holds it. Races of our own keyslot operations: locks-race-cli.interop.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVaultError } from '../api/errors.js';
import { FileDevice } from '../io/file-device.js';
import { sha256Hex } from '../testing/bytes.js';
import { spawnCli, type CliRun } from '../testing/cli.js';
import { ITER, lockFixtures } from '../testing/lock-fixtures.js';
import { holdWithQemuIo, waitForLockBytes } from '../testing/lock-peers.js';
import { peerTestOptions, run, runOk, runQemuRetrying, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false
  );
const fileHash = async (p: string) => sha256Hex(await readFile(p));

describe('image locks against qemu-io and qemu-img', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const { pw, writePassphrases, qemuImage, qemuArgs, qemuOpens } = lockFixtures(() => dir);

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    await writePassphrases(['A', 'N1', 'B1']);
  });
  after(async () => cleanup?.());

  function assertInUse(r: CliRun, pid: number, what: string) {
    assert.equal(r.code, 5, `${what}: exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`in use: qemu-io \\(PID ${pid}\\)`), what);
    assert.match(r.stderr, /\[IMAGE_IN_USE\]$/m, what);
  }

  test('an image qemu-io writes is refused by every write of ours, and left unchanged', async () => {
    const img = await qemuImage('held.qcow2');
    const src = join(dir, 'plain-src.qcow2');
    await runOk('qemu-img', ['create', '-f', 'qcow2', src, '16M']);
    const before = await fileHash(img);
    const holder = await holdWithQemuIo(img, qemuArgs(img, 'A'));
    try {
      const writes: Record<string, string[]> = {
        'keyslot add': [
          'keyslot',
          'add',
          img,
          '--passphrase-file',
          pw('A'),
          '--new-passphrase-file',
          pw('N1'),
          ...ITER,
        ],
        'keyslot change': [
          'keyslot',
          'change',
          img,
          '--passphrase-file',
          pw('A'),
          '--new-passphrase-file',
          pw('B1'),
          ...ITER,
        ],
        'keyslot remove': ['keyslot', 'remove', img, '--slot', '0', '--force-last'],
        'convert --overwrite onto it': ['convert', '-O', 'qcow2', '--overwrite', src, img],
        'create over it': ['create', '-f', 'qcow2', img, '1M'],
      };
      for (const [what, argv] of Object.entries(writes)) {
        const r = await spawnCli(argv);
        assertInUse(r, holder.pid, what);
        assert.match(r.stderr, /has it open for writing/, what);
      }
      assert.equal(await exists(`${img}.partial`), false);
      // A QEMU holder is not waited for as our own operations are.
      await assert.rejects(
        FileDevice.open(img, { write: true, waitMs: 0, ownWaitMs: 600_000 }),
        (e) => isVaultError(e, 'IMAGE_IN_USE')
      );
    } finally {
      await holder.release();
    }
    assert.equal(await fileHash(img), before);
    assert.equal(await qemuOpens(img, 'A'), true);
  });

  test('a raw LUKS image qemu-io writes (sharing writes, as its luks driver does) is refused too', async () => {
    const img = join(dir, 'held.luks');
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'luks',
      '--object',
      `secret,id=s,file=${pw('A')}`,
      '-o',
      'key-secret=s,iter-time=10',
      img,
      '8M',
    ]);
    const before = await fileHash(img);
    const holder = await holdWithQemuIo(img, qemuArgs(img, 'A', 'luks'));
    try {
      const add = [
        'keyslot',
        'add',
        img,
        '--passphrase-file',
        pw('A'),
        '--new-passphrase-file',
        pw('N1'),
        ...ITER,
      ];
      assertInUse(await spawnCli(add), holder.pid, 'keyslot add');
      assertInUse(await spawnCli(['keyslot', 'list', img]), holder.pid, 'keyslot list');
      assert.equal((await spawnCli(['keyslot', 'list', '-U', img])).code, 0);
    } finally {
      await holder.release();
    }
    assert.equal(await fileHash(img), before);
  });

  test('reads are refused while qemu-io writes unless -U, and share with a qemu-io reader', async () => {
    const img = await qemuImage('read.qcow2');
    const writer = await holdWithQemuIo(img, qemuArgs(img, 'A'));
    try {
      const reads: Record<string, string[]> = {
        info: ['info', img],
        check: ['check', img],
        'keyslot list': ['keyslot', 'list', img],
        'keyslot test': ['keyslot', 'test', img, '--passphrase-file', pw('A')],
        'convert source': [
          'convert',
          '--source-passphrase-file',
          pw('A'),
          img,
          join(dir, 'r-out.qcow2'),
        ],
      };
      for (const [what, argv] of Object.entries(reads)) {
        const r = await spawnCli(argv);
        assertInUse(r, writer.pid, what);
        assert.match(r.stderr, /-U \/ --force-share reads it anyway/, what);
        const [cmd, ...rest] = argv;
        const sub = cmd === 'keyslot' ? [cmd, rest.shift() as string] : [cmd as string];
        const shared = await spawnCli([...sub, '--force-share', ...rest]);
        assert.equal(shared.code, 0, `${what} -U: ${shared.stderr}`);
      }
      const info = await spawnCli(['info', '-U', img]);
      assert.match(
        info.stdout,
        new RegExp(`in use: +yes — qemu-io \\(PID ${writer.pid}\\), writing`)
      );
    } finally {
      await writer.release();
    }
    const reader = await holdWithQemuIo(img, qemuArgs(img, 'A'), { readOnly: true });
    try {
      assert.equal((await spawnCli(['info', img])).code, 0);
      assert.equal(
        (await spawnCli(['keyslot', 'test', img, '--passphrase-file', pw('A')])).code,
        0
      );
      // A reader that does not share writes (qemu-io -r on a qcow2) keeps our writes off.
      const add = await spawnCli([
        'keyslot',
        'add',
        img,
        '--passphrase-file',
        pw('A'),
        '--new-passphrase-file',
        pw('N1'),
        ...ITER,
      ]);
      assertInUse(add, reader.pid, 'keyslot add beside a reader');
      assert.match(add.stderr, /is using it/);
    } finally {
      await reader.release();
    }
  });

  test('QEMU refuses an image while our keyslot operation holds it; /proc/locks shows our lock', async () => {
    const img = await qemuImage('ours.qcow2');
    const gate = join(dir, 'gate');
    const add = spawnCli(
      [
        'keyslot',
        'add',
        img,
        '--passphrase-file',
        pw('A'),
        '--new-passphrase-file',
        pw('N1'),
        ...ITER,
      ],
      { env: { IMAGE_VAULT_TEST_HOLD: gate } }
    );
    try {
      // The whole write lock, as /proc/locks lists it while the operation waits at the gate.
      const held = await waitForLockBytes(img, [100, 101, 103, 200, 201, 203]);
      assert.deepEqual(held, [100, 101, 103, 200, 201, 203]);
      for (const argv of [
        ['qemu-img', 'info', img],
        ['qemu-img', 'snapshot', '-c', 'snap', img],
        ['qemu-img', 'check', img],
        ['qemu-io', ...qemuArgs(img, 'A'), '-c', 'write 0 4k'],
      ]) {
        const r = await run(argv[0] as string, argv.slice(1));
        assert.notEqual(r.code, 0, `${argv.join(' ')} went ahead`);
        assert.match(r.stderr, /Is another process using the image/, argv.join(' '));
      }
    } finally {
      await writeFile(gate, '');
    }
    const r = await add;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Added a passphrase in keyslot 1/);
    const info = JSON.parse(await runOk('qemu-img', ['info', '--output=json', img]));
    assert.equal(info.snapshots, undefined, 'qemu-img snapshot -c did not go ahead');
    assert.equal(await qemuOpens(img, 'N1'), true);
    assert.equal(await qemuOpens(img, 'A'), true);
  });

  test('QEMU refuses to write an image we read, and to open an output we write', async () => {
    const img = await qemuImage('source.qcow2');
    const reading = await FileDevice.open(img);
    try {
      const w = await run('qemu-io', [...qemuArgs(img, 'A'), '-c', 'write 0 4k']);
      assert.match(w.stderr, /Failed to get "write" lock/);
      assert.equal((await run('qemu-img', ['info', img])).code, 0); // readers share
    } finally {
      await reading.close();
    }
    // An output being written (here a copy of a qcow2, opened as our outputs are).
    const out = join(dir, 'out.qcow2.partial');
    await copyFile(img, out);
    const writing = await FileDevice.open(out, { write: true });
    try {
      for (const argv of [
        ['qemu-img', 'info', out],
        ['qemu-io', '-r', '-f', 'raw', '-c', 'read 0 512', out],
      ]) {
        const r = await run(argv[0] as string, argv.slice(1));
        assert.match(r.stderr, /Is another process using the image/, argv.join(' '));
      }
    } finally {
      await writing.close();
    }
  });
});
