/**
 * Issue #13, "The CLI does what it is told": every command that opens an existing image takes
 * its passphrase as qemu-img does (`--object secret,id=s,file=F --image-opts
 * driver=qcow2,file.filename=IMG,encrypt.key-secret=s`, `driver=luks,…,key-secret=s` for raw
 * LUKS), or as `--secret ID`; the new passphrase of keyslot add/change and rekey as
 * `--new-secret ID`, migrate's as `-o encrypt.key-secret=ID`. Images are made by qemu-img and
 * every result is judged by qemu-io opening (or failing to open) them with the secrets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

describe('an existing image passphrase in qemu-img spellings, every command', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  /** Secret files by id: A, B, C are passphrases, W a wrong one. */
  const secret: Record<string, string> = {};
  let n = 0;
  const img = (ext: string) => join(dir, `img-${n++}.${ext}`);
  const obj = (id: string, file = secret[id]) => ['--object', `secret,id=${id},file=${file}`];
  /** `--object s=…` plus `--image-opts` naming the image with secret id `s`. */
  const opened = (path: string, id: string, driver = 'qcow2') => [
    ...obj('s', secret[id]),
    '--image-opts',
    driver === 'luks'
      ? `driver=luks,file.filename=${path},key-secret=s`
      : `driver=${driver},file.filename=${path},encrypt.key-secret=s`,
  ];
  /** Whether qemu-io opens `path` with passphrase `id` and reads the pattern written first. */
  async function qemuOpens(path: string, id: string, driver = 'qcow2'): Promise<boolean> {
    const r = await run('qemu-io', [...opened(path, id, driver), '-c', 'read -P 0x5c 0 64k']);
    if (r.code === 0) assert.doesNotMatch(r.stdout, /Pattern verification failed/);
    return r.code === 0;
  }
  async function qemuImage(kind: 'qcow2' | 'luks', id = 'A'): Promise<string> {
    const path = img(kind);
    const o =
      kind === 'luks'
        ? `key-secret=s,iter-time=10`
        : 'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10';
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      kind,
      ...obj('s', secret[id]),
      '-o',
      o,
      path,
      '4M',
    ]);
    await runOk('qemu-io', [...opened(path, id, kind), '-c', 'write -P 0x5c 0 64k']);
    return path;
  }
  const wrong = (r: { code: number; stderr: string }) => {
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /WRONG_PASSPHRASE/);
  };
  const invalid = (r: { code: number; stderr: string }, re: RegExp) => {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /INVALID_ARGUMENT/);
    assert.match(r.stderr, re);
  };

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    for (const [id, pw] of Object.entries({ A: 'pass-A', B: 'pass-B', C: 'pass-C', W: 'no' })) {
      await qemuSecret(dir, id, pw);
      secret[id] = join(dir, `${id}.secret`);
    }
  });
  after(async () => cleanup?.());

  test('info and check take --object/--image-opts (the secret declared, not needed)', async () => {
    const path = await qemuImage('qcow2');
    const info = await cli('info', '--output=json', '-U', ...opened(path, 'W'));
    assert.equal(info.code, 0, info.stderr);
    const json = JSON.parse(info.stdout);
    assert.equal(json.format, 'qcow2');
    assert.equal(json['format-specific'].data.encrypt.format, 'luks');
    const check = await cli('check', ...opened(path, 'A'));
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /No errors were found/);
    // qemu-img agrees the same spelling is valid for info.
    await runOk('qemu-img', ['info', ...opened(path, 'A')]);
    invalid(
      await cli('info', ...obj('s'), '--image-opts', `driver=luks,file.filename=${path}`),
      /driver=luks: .* is a qcow2 image/
    );
    invalid(
      await cli('check', '--image-opts', `driver=qcow2,file.filename=${path},encrypt.key-secret=x`),
      /No secret with id "x"/
    );
    invalid(await cli('info', '-o', 'bogus=1', path), /Unknown -o option "bogus"/);
    const list = await cli('keyslot', 'list', '--json', ...opened(path, 'W'));
    assert.equal(list.code, 0, list.stderr);
    assert.equal(JSON.parse(list.stdout).filter((k: { active?: boolean }) => k.active).length, 1);
  });

  test('keyslot test/add/change/remove on qcow2+LUKS, judged by qemu-io', async () => {
    const path = await qemuImage('qcow2');
    const ok = (r: { code: number; stderr: string }) => assert.equal(r.code, 0, r.stderr);
    ok(await cli('keyslot', 'test', ...opened(path, 'A')));
    wrong(await cli('keyslot', 'test', ...opened(path, 'W')));
    // add: A opens, B is new.
    ok(
      await cli(
        'keyslot',
        'add',
        ...opened(path, 'A'),
        ...obj('n', secret.B),
        '--new-secret',
        'n',
        '--iter-time',
        '10'
      )
    );
    assert.deepEqual([await qemuOpens(path, 'A'), await qemuOpens(path, 'B')], [true, true]);
    // change: B → C; B stops opening, A and C open.
    wrong(
      await cli('keyslot', 'change', ...opened(path, 'W'), ...obj('n', secret.C), '--new-secret=n')
    );
    ok(
      await cli(
        'keyslot',
        'change',
        ...opened(path, 'B'),
        ...obj('n', secret.C),
        '--new-secret',
        'n',
        '--iter-time',
        '10'
      )
    );
    assert.deepEqual(
      [await qemuOpens(path, 'B'), await qemuOpens(path, 'C'), await qemuOpens(path, 'A')],
      [false, true, true]
    );
    // remove: the keyslot the secret opens (A), via --secret without --image-opts.
    ok(await cli('keyslot', 'remove', path, ...obj('r', secret.A), '--secret', 'r'));
    assert.deepEqual([await qemuOpens(path, 'A'), await qemuOpens(path, 'C')], [false, true]);
    // remove --slot N with a secret: the proof must open another keyslot (luksKillSlot's rule).
    const added = await cli(
      'keyslot',
      'add',
      path,
      ...obj('o', secret.C),
      '--secret',
      'o',
      ...obj('n', secret.B),
      '--new-secret',
      'n',
      '--iter-time',
      '10',
      '--json'
    );
    ok(added);
    const slot = String(JSON.parse(added.stdout).slot);
    wrong(await cli('keyslot', 'remove', '--slot', slot, ...opened(path, 'W')));
    ok(await cli('keyslot', 'remove', '--slot', slot, ...opened(path, 'C')));
    assert.deepEqual([await qemuOpens(path, 'B'), await qemuOpens(path, 'C')], [false, true]);
  });

  test('raw LUKS (driver=luks,key-secret=): keyslot change, header backup and restore', async () => {
    const path = await qemuImage('luks');
    const backup = join(dir, 'luks-header.bak');
    const b = await cli('header', 'backup', ...opened(path, 'A', 'luks'), backup);
    assert.equal(b.code, 0, b.stderr);
    wrong(
      await cli(
        'keyslot',
        'change',
        ...opened(path, 'W', 'luks'),
        ...obj('n', secret.B),
        '--new-secret',
        'n'
      )
    );
    const c = await cli(
      'keyslot',
      'change',
      ...opened(path, 'A', 'luks'),
      ...obj('n', secret.B),
      '--new-secret',
      'n',
      '--iter-time',
      '10'
    );
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(
      [await qemuOpens(path, 'A', 'luks'), await qemuOpens(path, 'B', 'luks')],
      [false, true]
    );
    // restore checks the backup with the secret: a wrong one is refused, A brings it back.
    wrong(await cli('header', 'restore', ...opened(path, 'W', 'luks'), backup));
    const r = await cli('header', 'restore', ...opened(path, 'A', 'luks'), backup);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      [await qemuOpens(path, 'A', 'luks'), await qemuOpens(path, 'B', 'luks')],
      [true, false]
    );
    invalid(
      await cli('header', 'backup', path, backup + '2', ...obj('x', secret.A), '--secret', 'x'),
      /header backup needs no passphrase/
    );
  });

  test('rekey with --image-opts and --new-secret; qemu-io reads the data with the new one', async () => {
    const path = await qemuImage('qcow2');
    const add = await cli(
      'keyslot',
      'add',
      ...opened(path, 'A'),
      ...obj('n', secret.C),
      '--new-secret',
      'n',
      '--iter-time',
      '10'
    );
    assert.equal(add.code, 0, add.stderr);
    wrong(await cli('rekey', ...opened(path, 'W'), '--drop-other-slots'));
    // C's keyslot is re-wrapped with its secret (--other-secret), A's becomes B's.
    const r = await cli(
      'rekey',
      ...opened(path, 'A'),
      ...obj('n', secret.B),
      '--new-secret',
      'n',
      ...obj('c', secret.C),
      '--other-secret',
      'c'
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      [await qemuOpens(path, 'A'), await qemuOpens(path, 'B'), await qemuOpens(path, 'C')],
      [false, true, true]
    );
    invalid(await cli('rekey', '-o', 'iter-time=10', path), /Unknown -o option "iter-time"/);
  });

  test('migrate: the legacy source by --image-opts, the new passphrase by -o encrypt.key-secret', async () => {
    const legacy = img('qcow2');
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow2',
      ...obj('s', secret.A),
      '-o',
      'encrypt.format=aes,encrypt.key-secret=s',
      legacy,
      '4M',
    ]);
    await runOk('qemu-io', [
      ...opened(legacy, 'A'),
      '-c',
      'write -P 0x5c 0 64k',
      '-c',
      'write -P 0x11 1M 1M',
    ]);
    const out = img('qcow2');
    const migrate = (id: string) =>
      cli(
        'migrate',
        ...opened(legacy, id),
        ...obj('n', secret.B),
        '-o',
        'encrypt.key-secret=n,iter-time=10',
        legacy,
        out
      );
    // --image-opts names SRC, so the positional SRC is the option string: say it that way.
    const m = await cli(
      'migrate',
      ...opened(legacy, 'A'),
      ...obj('n', secret.B),
      '-o',
      'encrypt.key-secret=n,iter-time=10',
      out
    );
    assert.equal(m.code, 0, m.stderr);
    assert.equal(await qemuOpens(out, 'B'), true);
    await runOk('qemu-io', [...opened(out, 'B'), '-c', 'read -P 0x11 1M 1M']);
    // Too many positionals is refused rather than guessed.
    invalid(await migrate('A'), /Expected SRC DST/);
    const bad = await cli(
      'migrate',
      ...opened(legacy, 'W'),
      ...obj('n', secret.B),
      '-o',
      'encrypt.key-secret=n,iter-time=10',
      img('qcow2')
    );
    wrong(bad);
    // --old-secret: the legacy passphrase without --image-opts.
    const out2 = img('qcow2');
    const m2 = await cli(
      'migrate',
      ...obj('o', secret.A),
      '--old-secret',
      'o',
      ...obj('n', secret.C),
      '-o',
      'encrypt.key-secret=n,iter-time=10',
      legacy,
      out2
    );
    assert.equal(m2.code, 0, m2.stderr);
    await runOk('qemu-io', [...opened(out2, 'C'), '-c', 'read -P 0x11 1M 1M']);
  });

  test('bundle export: the source passphrase from --image-opts', async () => {
    const path = await qemuImage('qcow2');
    const recipient = await passphraseFile(dir, 'recipient.pw', 'pass-C');
    const export_ = (id: string, bundle: string) =>
      cli(
        'bundle',
        'export',
        ...opened(path, id),
        '--recipient-passphrase-file',
        recipient,
        '-o',
        'iter-time=10',
        bundle
      );
    wrong(await export_('W', join(dir, 'never-bundle')));
    const bundle = join(dir, 'bundle');
    const r = await export_('A', bundle);
    assert.equal(r.code, 0, r.stderr);
    const disk = (await readdir(bundle)).find((f) => f.endsWith('.qcow2')) as string;
    assert.equal(await qemuOpens(join(bundle, disk), 'C'), true);
    assert.equal(await qemuOpens(join(bundle, disk), 'A'), false);
  });

  test('many images: --secret/--new-secret read once; --image-opts and misuse refused', async () => {
    const a = await qemuImage('qcow2');
    const b = await qemuImage('qcow2');
    const r = await cli(
      'keyslot',
      'change',
      a,
      b,
      ...obj('o', secret.A),
      ...obj('n', secret.B),
      '--secret',
      'o',
      '--new-secret',
      'n',
      '--iter-time',
      '10',
      '--json'
    );
    assert.equal(r.code, 0, r.stderr);
    for (const p of [a, b]) {
      assert.deepEqual([await qemuOpens(p, 'A'), await qemuOpens(p, 'B')], [false, true]);
    }
    invalid(
      await cli('rekey', a, b, '--secret', 'o', '--new-secret', 'n', '--other-secret', 'c'),
      /--other-secret is for one image/
    );
    invalid(
      await cli('keyslot', 'change', '--batch', ...opened(a, 'B'), '--new-secret', 's'),
      /--image-opts names one image/
    );
    invalid(
      await cli('keyslot', 'test', ...opened(a, 'B'), '--passphrase-file', secret.B as string),
      /Give the passphrase once, not by --image-opts …key-secret and --passphrase-file/
    );
    invalid(
      await cli('keyslot', 'add', ...opened(a, 'B'), '-o', 'encrypt.key-secret=s'),
      /-o encrypt\.key-secret cannot be honoured/
    );
    invalid(
      await cli('keyslot', 'test', a, '--object', 'secret,id=s,data=pass-B', '--secret', 's'),
      /data=… is refused/
    );
    invalid(
      await cli(
        'keyslot',
        'test',
        ...obj('s', secret.B),
        '--image-opts',
        `driver=qcow2,file.filename=${a},encrypt.key-secret=s,backing.encrypt.key-secret=s`
      ),
      /backing\.encrypt\.key-secret cannot be honoured/
    );
  });
});
