/**
 * Issue #17: every command a playbook needs answers `--json` with one document on stdout and
 * a stable exit status, failures included (`{"error": {"code", "message"}, "exitCode"}`).
 * create, info, check, convert, keyslot, header, libvirt plan, bundle export and import.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img');

describe('--json and exit codes for playbooks', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const at = (n: string) => join(dir, n);

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    await writeFile(at('p.pw'), 'first', { mode: 0o600 });
    await writeFile(at('q.pw'), 'second', { mode: 0o600 });
  });
  after(async () => cleanup?.());

  /** Runs the CLI, expects `code`, and parses the last stdout line group as JSON. */
  async function json(code: number, ...argv: string[]): Promise<Record<string, unknown>> {
    const r = await cli(...argv);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  test('each command prints one JSON document; failures too, with their exit status', async () => {
    const pw = ['--passphrase-file', at('p.pw')];
    const created = await json(
      0,
      'create',
      '-f',
      'qcow2',
      '--encrypt',
      '-o',
      'iterations=1000',
      ...pw,
      at('a.qcow2'),
      '8M',
      '--json'
    );
    assert.equal(created['format'], 'qcow2');
    assert.equal(created['encrypted'], true);
    // qemu-img agrees with what create --json reports.
    const qemu = JSON.parse(
      await runOk('qemu-img', ['info', '--output=json', at('a.qcow2')])
    ) as Record<string, unknown>;
    assert.equal(created['virtual-size'], qemu['virtual-size']);

    assert.equal((await json(0, 'info', at('a.qcow2'), '--json'))['format'], 'qcow2');
    assert.equal((await json(0, 'check', at('a.qcow2'), '--json'))['corruptions'], 0);
    const listed = JSON.parse(
      (await cli('keyslot', 'list', at('a.qcow2'), '--json')).stdout
    ) as unknown[];
    assert.equal(listed.length, 8);
    assert.deepEqual(await json(0, 'keyslot', 'test', at('a.qcow2'), ...pw, '--json'), {
      path: at('a.qcow2'),
      slot: 0,
    });

    const conv = await json(
      0,
      'convert',
      '--source-passphrase-file',
      at('p.pw'),
      '-O',
      'luks',
      '--pbkdf-force-iterations',
      '1000',
      ...pw,
      at('a.qcow2'),
      at('b.luks'),
      '--json'
    );
    assert.equal(conv['target'], at('b.luks'));
    assert.equal(conv['verified'], true);
    assert.deepEqual(
      Object.keys(await json(0, 'header', 'repair', at('b.luks'), '--json')).sort(),
      ['action', 'description']
    );
    assert.equal(
      typeof (await json(0, 'libvirt', 'plan', at('b.luks'), '--json'))['diskXml'],
      'string'
    );

    const exported = await json(
      0,
      'bundle',
      'export',
      ...pw,
      '--recipient-passphrase-file',
      at('q.pw'),
      '-o',
      'iterations=1000',
      at('a.qcow2'),
      at('bundle'),
      '--json'
    );
    assert.equal(exported['bundleDir'], at('bundle'));
    const imported = await json(
      0,
      'bundle',
      'import',
      '--passphrase-file',
      at('q.pw'),
      '--keep-handed-over',
      at('bundle'),
      at('c.qcow2'),
      '--json'
    );
    assert.equal(imported['exitCode'], 0);
    assert.equal(imported['signed'], false);

    // Failures: one JSON error document and the documented status.
    const cases: [number, string, string[]][] = [
      [4, 'WRONG_PASSPHRASE', ['keyslot', 'test', at('a.qcow2'), '--passphrase-file', at('q.pw')]],
      [1, 'NOT_FOUND', ['info', at('missing.qcow2')]],
      [1, 'EXISTS', ['create', '-f', 'raw', at('a.qcow2'), '1M']],
      [
        1,
        'INVALID_ARGUMENT',
        ['keyslot', 'change', at('a.qcow2'), '--list', at('a.qcow2'), '--jobs', '99'],
      ],
    ];
    for (const [code, error, argv] of cases) {
      const doc = await json(code, ...argv, '--json');
      assert.deepEqual([doc['exitCode'], (doc['error'] as { code: string }).code], [code, error]);
    }
  });
});
