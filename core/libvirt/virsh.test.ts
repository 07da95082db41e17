import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVaultError } from '../api/errors.js';
import { scratchDir } from '../testing/peers.js';
import { defineAndStartDomain, defineSecret, setSecretValue, undefineSecret } from './virsh.js';
import { domainLogPath } from './qemu-log.js';
import { withSecretFile } from './secret-file.js';
import { secretXml } from './secret-xml.js';

const UUID = '6f1d2c3b-4a59-4e7f-8a1b-2c3d4e5f6a7b';

/**
 * A fake virsh that appends its argv (one per line, then "@@END") to LOG, copies any file it
 * was asked to read (`--file F`, or define/create/secret-define F) to LOG.inputN, and answers
 * like virsh would; `FAKE_FAIL` in the environment makes it fail with that text, and
 * `FAKE_QEMU_LOG` makes it append `FAKE_QEMU_LINE` to that file first (QEMU's domain log).
 */
async function fakeVirsh(dir: string): Promise<{ bin: string; log: string }> {
  const bin = join(dir, 'virsh');
  const log = join(dir, 'log');
  await writeFile(
    bin,
    `#!/bin/sh
n=$(ls ${dir} | grep -c '^input') ; prev=""
for a in "$@"; do
  echo "$a" >> ${log}
  case "$prev" in --file|secret-define|define|create) cat "$a" > ${dir}/input$n; ls -l "$a" | cut -c1-10 > ${dir}/mode$n ;; esac
  prev="$a"
done
echo @@END >> ${log}
if [ -n "$FAKE_QEMU_LOG" ]; then echo "$FAKE_QEMU_LINE" >> "$FAKE_QEMU_LOG"; fi
if [ -n "$FAKE_FAIL" ]; then echo "error: $FAKE_FAIL" >&2; exit 1; fi
`
  );
  await chmod(bin, 0o755);
  return { bin, log };
}

test('defineSecret pipes XML and passphrase through stdin; argv holds neither', async () => {
  const s = await scratchDir();
  try {
    const { bin, log } = await fakeVirsh(s.dir);
    const passphrase = new TextEncoder().encode('s3cret pass\n');
    const xml = secretXml({ uuid: UUID, volumePath: '/vm/a.qcow2' });
    await defineSecret({
      virsh: bin,
      uri: 'test:///default',
      secretXml: xml,
      uuid: UUID,
      passphrase,
    });
    const argv = await readFile(log, 'utf8');
    assert.ok(!argv.includes('s3cret'));
    assert.deepEqual(
      argv
        .split('@@END\n')
        .filter((c) => c.length > 0)
        .map((c) => c.trim().split('\n')),
      [
        ['-c', 'test:///default', '-q', 'secret-define', '/dev/stdin'],
        [
          '-c',
          'test:///default',
          '-q',
          'secret-set-value',
          '--secret',
          UUID,
          '--file',
          '/dev/stdin',
          '--plain',
        ],
      ]
    );
    assert.equal(await readFile(join(s.dir, 'input0'), 'utf8'), xml);
    assert.equal(await readFile(join(s.dir, 'input1'), 'utf8'), 's3cret pass\n');
    assert.equal(new TextDecoder().decode(passphrase), 's3cret pass\n', 'caller buffer untouched');
  } finally {
    await s.cleanup();
  }
});

test('tempfile transport: 0600 file, wiped and removed afterwards', async () => {
  const s = await scratchDir();
  try {
    const { bin, log } = await fakeVirsh(s.dir);
    const passphrase = new TextEncoder().encode('tmp-pass');
    await setSecretValue({ virsh: bin, uuid: UUID, passphrase, via: 'tempfile' });
    const argv = (await readFile(log, 'utf8')).split('\n');
    const file = argv[argv.indexOf('--file') + 1]!;
    assert.match(file, /image-vault-secret-[^/]+\/value$/);
    assert.equal(await readFile(join(s.dir, 'input0'), 'utf8'), 'tmp-pass');
    assert.equal(await readFile(join(s.dir, 'mode0'), 'utf8'), '-rw-------\n');
    await assert.rejects(stat(file), { code: 'ENOENT' });
    await assert.rejects(stat(join(file, '..')), { code: 'ENOENT' });
  } finally {
    await s.cleanup();
  }
});

test('withSecretFile wipes before unlinking even when the user throws', async () => {
  const s = await scratchDir();
  try {
    let seen = '';
    await assert.rejects(
      withSecretFile(
        new TextEncoder().encode('abc'),
        async (f) => {
          seen = f;
          assert.equal((await stat(join(f, '..'))).mode & 0o777, 0o700);
          assert.equal((await stat(f)).mode & 0o777, 0o600);
          throw new Error('boom');
        },
        s.dir
      ),
      /boom/
    );
    await assert.rejects(stat(seen), { code: 'ENOENT' });
    assert.deepEqual(await readdir(s.dir), []);
  } finally {
    await s.cleanup();
  }
});

test('missing virsh: PEER_MISSING with the manual steps, no secret in the message', async () => {
  const passphrase = new TextEncoder().encode('never-shown');
  const xml = secretXml({ uuid: UUID, volumePath: '/vm/a.qcow2' });
  await assert.rejects(
    defineSecret({ virsh: '/nonexistent/virsh', secretXml: xml, uuid: UUID, passphrase }),
    (e) =>
      isVaultError(e, 'PEER_MISSING') &&
      e.message.includes('secret-define secret.xml') &&
      e.message.includes(`secret-set-value --secret ${UUID} --interactive`) &&
      !e.message.includes('never-shown')
  );
});

test('virsh errors map to codes: Invalid password, already defined, empty passphrase', async () => {
  const s = await scratchDir();
  const old = process.env.FAKE_FAIL;
  try {
    const { bin } = await fakeVirsh(s.dir);
    process.env.FAKE_FAIL =
      'internal error: qemu unexpectedly closed the monitor: Invalid password, cannot unlock any keyslot';
    await assert.rejects(
      defineAndStartDomain({ virsh: bin, domainXml: '<domain><name>d1</name></domain>' }),
      (e) => isVaultError(e, 'WRONG_PASSPHRASE') && /Invalid password/.test(e.message)
    );
    process.env.FAKE_FAIL = `operation failed: a secret with UUID ${UUID} already defined for use with /x`;
    await assert.rejects(
      defineSecret({
        virsh: bin,
        secretXml: secretXml({ uuid: UUID, volumePath: '/x' }),
        uuid: UUID,
        passphrase: new Uint8Array([1]),
      }),
      (e) => isVaultError(e, 'EXISTS')
    );
    await assert.rejects(
      setSecretValue({ virsh: bin, uuid: UUID, passphrase: new Uint8Array(0) }),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
    process.env.FAKE_FAIL = 'boom';
    // undefine that fails while the secret still lists: IO (the fake lists nothing, so OK).
    await undefineSecret({ virsh: bin, uuid: UUID }).catch((e) => assert.ok(isVaultError(e, 'IO')));
  } finally {
    if (old === undefined) delete process.env.FAKE_FAIL;
    else process.env.FAKE_FAIL = old;
    await s.cleanup();
  }
});

test('a start that fails before the monitor answers: the reason comes from the QEMU log of this attempt', async () => {
  const s = await scratchDir();
  const saved = { ...process.env };
  try {
    const { bin } = await fakeVirsh(s.dir);
    process.env.HOME = s.dir; // qemu:///session logs under ~/.cache/libvirt/qemu/log
    delete process.env.XDG_CACHE_HOME;
    const logDir = join(s.dir, '.cache/libvirt/qemu/log');
    await mkdir(logDir, { recursive: true });
    const qemuLog = join(logDir, 'd2.log');
    // An earlier attempt's failure is in the log already: it must not count for this one.
    await writeFile(
      qemuLog,
      'qemu-system-x86_64: -blockdev ...: Invalid password, cannot unlock any keyslot\n'
    );
    process.env.FAKE_FAIL = 'failed to connect to monitor socket: Connection refused';
    process.env.FAKE_QEMU_LOG = qemuLog;
    process.env.FAKE_QEMU_LINE = 'qemu-system-x86_64: cannot set up guest memory';
    const target = {
      virsh: bin,
      uri: 'qemu:///session',
      domainXml: '<domain><name>d2</name></domain>',
    };
    await assert.rejects(defineAndStartDomain(target), (e) => isVaultError(e, 'IO'));
    process.env.FAKE_QEMU_LINE =
      'qemu-system-x86_64: -blockdev {"driver":"qcow2"}: Invalid password, cannot unlock any keyslot';
    for (const persistent of [false, true]) {
      await assert.rejects(
        defineAndStartDomain({ ...target, persistent }),
        (e) => isVaultError(e, 'WRONG_PASSPHRASE') && /Invalid password/.test(e.message)
      );
    }
  } finally {
    for (const k of ['HOME', 'XDG_CACHE_HOME', 'FAKE_FAIL', 'FAKE_QEMU_LOG', 'FAKE_QEMU_LINE']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await s.cleanup();
  }
});

test('domainLogPath: system and session logs; names that could escape give none', () => {
  const saved = process.env.XDG_CACHE_HOME;
  try {
    process.env.XDG_CACHE_HOME = '/c';
    assert.equal(domainLogPath('qemu:///system', 'vm1'), '/var/log/libvirt/qemu/vm1.log');
    assert.equal(domainLogPath(undefined, 'vm1'), '/var/log/libvirt/qemu/vm1.log');
    assert.equal(domainLogPath('qemu:///session', 'vm1'), '/c/libvirt/qemu/log/vm1.log');
    assert.equal(domainLogPath('qemu+ssh://h/system', 'vm1'), undefined);
    for (const bad of ['', '../x', 'a/b', '.hidden', 'a\0b']) {
      assert.equal(domainLogPath('qemu:///system', bad), undefined, JSON.stringify(bad));
    }
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});
