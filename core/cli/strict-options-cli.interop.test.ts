/**
 * Issue #13: the CLI does what it is told or says no. Unknown, misspelled or unhonourable
 * `-o` keys fail with INVALID_ARGUMENT naming the key and the accepted ones (nothing is
 * created); qemu-img's `-f FMT`, `--output=json` and `-o encrypt.format=luks` work; every
 * error is one line with a [CODE] (unknown command, a directory given as an image).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, type CliRun } from '../testing/cli.js';
import { passphraseFile, peerTestOptions, runOk, scratchDir } from '../testing/peers.js';

const oneLine = (r: CliRun, code: string) => {
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.endsWith(`[${code}]`), r.stderr);
};

describe('strict options and qemu-img spellings', peerTestOptions('qemu-img'), () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let pw: string;
  let img: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-strict-'));
    pw = await passphraseFile(dir, 'pw', 'strict');
    img = join(dir, 'a.qcow2');
    await runOk('qemu-img', ['create', '-f', 'qcow2', img, '1M']);
  });
  after(async () => cleanup?.());

  test('unknown, misspelled and unhonourable -o keys are refused, nothing is made', async () => {
    const cases: [string[], RegExp][] = [
      [
        [
          'create',
          '-f',
          'qcow2',
          '--encrypt',
          '--passphrase-file',
          pw,
          '-o',
          'cihper=aes-256-xts-plain64',
        ],
        /"cihper" \(did you mean cipher\?\).*accepted here: .*cipher/,
      ],
      [
        ['create', '-f', 'qcow2', '--encrypt', '--passphrase-file', pw, '-o', 'iter_time=10'],
        /"iter_time" \(did you mean iter-time\?\)/,
      ],
      [['create', '-f', 'qcow2', '-o', 'bogus=1'], /"bogus".*accepted here: cluster-size/],
      [
        ['create', '-f', 'qcow2', '-o', 'cipher=aes-256-xts-plain64'],
        /-o cipher cannot be honoured: the image is not encrypted/,
      ],
      [
        ['create', '-f', 'luks', '--passphrase-file', pw, '-o', 'type=luks2'],
        /-o type cannot be honoured: say --luks-version/,
      ],
      [
        ['create', '-f', 'raw', '-o', 'cluster_size=64k'],
        /cluster_size cannot be honoured: only qcow2/,
      ],
      [
        ['create', '-f', 'qcow2', '-o', 'encrypt.format=aes'],
        /encrypt.format=aes cannot be honoured/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv, join(dir, 'new.img'), '1M');
      oneLine(r, 'INVALID_ARGUMENT');
      assert.match(r.stderr, message);
    }
    const conv = await cli(
      'convert',
      '-O',
      'qcow2',
      '-o',
      'extended_l2=on',
      img,
      join(dir, 'new.img')
    );
    oneLine(conv, 'INVALID_ARGUMENT');
    assert.match(conv.stderr, /extended_l2 cannot be honoured/);
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('new.img')));
  });

  test('qemu-img spellings: -o encrypt.format=luks, -f FMT, --output=json', async () => {
    const enc = join(dir, 'enc.qcow2');
    const c = await cli(
      'create',
      '-f',
      'qcow2',
      '--passphrase-file',
      pw,
      '-o',
      'encrypt.format=luks,encrypt.iter-time=10',
      enc,
      '1M'
    );
    assert.equal(c.code, 0, c.stderr);
    const info = await cli('info', '-f', 'qcow2', '--output=json', enc);
    assert.equal(info.code, 0, info.stderr);
    const j = JSON.parse(info.stdout) as { format: string; encrypted?: boolean };
    assert.equal(j.format, 'qcow2');
    assert.equal(j.encrypted, true);
    const wrong = await cli('info', '-f', 'raw', enc);
    oneLine(wrong, 'INVALID_ARGUMENT');
    assert.match(wrong.stderr, /-f raw: .* is a qcow2 image/);
    const check = await cli('check', '-f', 'qcow2', '--output=json', img);
    assert.equal(check.code, 0, check.stderr);
    assert.equal((JSON.parse(check.stdout) as { corruptions: number }).corruptions, 0);
    oneLine(await cli('info', '--output=xml', img), 'INVALID_ARGUMENT');
  });

  test('one line with a code: unknown command, a directory as an image', async () => {
    const unknown = await cli('cnovert', img);
    oneLine(unknown, 'INVALID_ARGUMENT');
    assert.match(unknown.stderr, /unknown command "cnovert" \(commands: info, check, .*convert/);
    const folder = join(dir, 'folder');
    await mkdir(folder);
    for (const argv of [
      ['info', folder],
      ['check', folder],
      ['convert', folder, join(dir, 'x.qcow2')],
    ]) {
      const r = await cli(...argv);
      oneLine(r, 'NOT_AN_IMAGE');
      assert.match(r.stderr, /folder is a directory, not an image file/);
    }
  });
});
