// The preload as the build ships it (dist/electron/preload/index.cjs), run in a bare `vm`
// context the way a sandboxed preload runs: its only `require` is `electron`, answered here by
// stand-ins. It must expose one method per operation of the contract, each invoking that
// operation's channel, and nothing that leaks ipcRenderer.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { channelFor, EVENT_CHANNEL, OPERATION_NAMES } from '../../core/api/contract.js';
import { preloadPath } from './paths.js';

type Listener = (event: unknown, payload: unknown) => void;

function loadPreload() {
  const invoked: [string, unknown][] = [];
  const listeners = new Map<string, Set<Listener>>();
  const required: string[] = [];
  const exposed: Record<string, Record<string, unknown>> = {};
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, value: Record<string, unknown>) => {
        exposed[key] = value;
      },
    },
    ipcRenderer: {
      invoke: async (channel: string, args: unknown) => {
        invoked.push([channel, args]);
        return { ok: true, result: null };
      },
      on: (channel: string, l: Listener) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(l);
      },
      removeListener: (channel: string, l: Listener) => listeners.get(channel)?.delete(l),
    },
    webUtils: { getPathForFile: (f: { name: string }) => `/dropped/${f.name}` },
  };
  const module = { exports: {} };
  const require = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return electron;
  };
  runInNewContext(readFileSync(preloadPath(), 'utf8'), {
    require,
    module,
    exports: module.exports,
  });
  return { exposed, invoked, listeners, required };
}

describe('the built preload (dist/electron/preload/index.cjs)', () => {
  it('is where the main process loads it from', () => {
    assert.ok(existsSync(preloadPath()), `${preloadPath()} is missing: run npm run build`);
  });

  it('exposes one method per operation of the contract, each on its own channel', async () => {
    const { exposed, invoked, required } = loadPreload();
    assert.deepEqual(required, ['electron']);
    const vault = exposed.vault!;
    assert.deepEqual(
      Object.keys(vault).sort(),
      [...OPERATION_NAMES, 'subscribe', 'getPathForFile'].sort()
    );
    for (const op of OPERATION_NAMES) {
      await (vault[op] as (...a: unknown[]) => Promise<unknown>)('/a', 1);
      assert.deepEqual(JSON.parse(JSON.stringify(invoked.at(-1))), [channelFor(op), ['/a', 1]], op);
    }
  });

  it('wraps event listeners (no IPC event object reaches the page) and removes them', () => {
    const { exposed, listeners } = loadPreload();
    const got: unknown[] = [];
    const stop = (exposed.vault!.subscribe as (l: (e: unknown) => void) => () => void)((e) =>
      got.push(e)
    );
    const [wrapped] = listeners.get(EVENT_CHANNEL)!;
    wrapped!({ sender: 'ipcRenderer' }, { type: 'job' });
    assert.deepEqual(got, [{ type: 'job' }]);
    stop();
    assert.equal(listeners.get(EVENT_CHANNEL)!.size, 0);
  });

  it('gives dropped files their path through webUtils', () => {
    const { exposed } = loadPreload();
    const path = (exposed.vault!.getPathForFile as (f: { name: string }) => string)({
      name: 'old.qcow2',
    });
    assert.equal(path, '/dropped/old.qcow2');
  });
});
