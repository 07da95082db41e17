import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelFor, OPERATION_NAMES } from '../../core/api/contract.js';
import { imageInfoFixture } from '../../core/testing/api-fixtures.js';
import { fail, type ImageInfo, type VaultApi, type VaultEvent } from '../../core/api/index.js';
import {
  forwardEvents,
  ipcHandlers,
  registerIpcHandlers,
  type IpcMainLike,
} from './ipc-handlers.js';

const APP = 'app://vault/index.html';
const calls: unknown[][] = [];
const seen: Uint8Array[] = [];
const info = (path: string): ImageInfo => imageInfoFixture(path);
const stub = {
  inspect: async (path: string) => {
    calls.push(['inspect', path]);
    return path === '/leaky' ? { ...info(path), masterKey: 'x' } : info(path);
  },
  keyslotTest: async (_path: string, pass: Uint8Array) => {
    seen.push(pass);
    if (new TextDecoder().decode(pass) !== 'ok') throw fail('WRONG_PASSPHRASE', 'Wrong passphrase');
    return { slot: 1 };
  },
  startMigrate: async () => ({ id: 'j1' }),
  subscribe: (l: (e: VaultEvent) => void) => {
    l({ type: 'job', job: { id: 'x' } } as unknown as VaultEvent);
    return () => undefined;
  },
} as unknown as VaultApi;

describe('IPC handlers', () => {
  it('refuses to send a result the contract does not describe (a stray field)', async () => {
    const r = await ipcHandlers[channelFor('inspect')]!(stub, APP, ['/leaky']);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'INTERNAL');
    assert.doesNotMatch(JSON.stringify(r), /"x"/);
  });

  it('has one channel per VaultApi method', () => {
    assert.equal(Object.keys(ipcHandlers).length, OPERATION_NAMES.length);
    assert.ok(ipcHandlers['vault:inspect']);
    assert.ok(!('vault:subscribe' in ipcHandlers));
  });

  it('calls the service for a trusted sender with valid arguments', async () => {
    const r = await ipcHandlers[channelFor('inspect')]!(stub, APP, ['/tmp/disk.qcow2']);
    assert.deepEqual(r, { ok: true, result: info('/tmp/disk.qcow2') });
  });

  it('refuses senders that are not the app:// window, without calling the service', async () => {
    const before = calls.length;
    for (const url of [
      'https://evil.example/',
      'file:///tmp/x.html',
      'app://other/index.html',
      '',
      'http://127.0.0.1:3000/',
    ]) {
      const r = await ipcHandlers['vault:inspect']!(stub, url, ['/tmp/a']);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.error.code, 'INVALID_ARGUMENT');
    }
    assert.equal(calls.length, before);
  });

  it('validates arguments with the shared schemas', async () => {
    for (const bad of [['relative'], [42], [], ['/a', '/b'], 'not-an-array', [{ path: '/a' }]]) {
      const r = await ipcHandlers['vault:inspect']!(stub, APP, bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
      assert.equal(!r.ok && r.error.code, 'INVALID_ARGUMENT');
    }
    const strict = await ipcHandlers['vault:keyslotAdd']!(stub, APP, [
      {
        path: '/a',
        passphrase: new Uint8Array([1]),
        newPassphrase: new Uint8Array([2]),
        extra: true,
      },
    ]);
    assert.equal(strict.ok, false);
    const huge = await ipcHandlers['vault:keyslotTest']!(stub, APP, ['/a', new Uint8Array(2048)]);
    assert.equal(huge.ok, false);
    const stringPass = await ipcHandlers['vault:keyslotTest']!(stub, APP, ['/a', 'ok']);
    assert.equal(stringPass.ok, false);
  });

  it('returns typed errors as envelopes and wipes passphrase bytes after the call', async () => {
    const r = await ipcHandlers['vault:keyslotTest']!(stub, APP, [
      '/a',
      new TextEncoder().encode('nope'),
    ]);
    assert.deepEqual(r, {
      ok: false,
      error: { code: 'WRONG_PASSPHRASE', message: 'Wrong passphrase' },
    });
    const ok = await ipcHandlers['vault:keyslotTest']!(stub, APP, [
      '/a',
      new TextEncoder().encode('ok'),
    ]);
    assert.deepEqual(ok, { ok: true, result: { slot: 1 } });
    assert.ok(seen.every((b) => b.every((x) => x === 0)));
  });

  it('registers every handler on ipcMain in one place and forwards the sender URL', async () => {
    const registered = new Map<
      string,
      (e: { senderFrame: { url: string } | null }, ...a: unknown[]) => unknown
    >();
    const fake: IpcMainLike = {
      handle: (c, l) => void registered.set(c, l),
      removeHandler: (c) => void registered.delete(c),
    };
    const remove = registerIpcHandlers(fake, stub);
    assert.equal(registered.size, OPERATION_NAMES.length);
    const viaIpc = await registered.get('vault:inspect')!({ senderFrame: { url: APP } }, ['/x']);
    assert.deepEqual(viaIpc, { ok: true, result: info('/x') });
    const noFrame = (await registered.get('vault:inspect')!({ senderFrame: null }, ['/x'])) as {
      ok: boolean;
    };
    assert.equal(noFrame.ok, false);
    remove();
    assert.equal(registered.size, 0);
  });

  it('forwards service events on the event channel', () => {
    const sent: string[] = [];
    forwardEvents(stub, (channel) => sent.push(channel));
    assert.deepEqual(sent, ['vault:event']);
  });
});
