/* eslint-disable no-restricted-imports -- this test runs in Node (npx tsx --test), not in the page */
// Every face carries every operation of the contract: the renderer's two adapters (derived
// from the table) and the in-memory fake the component tests use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPERATION_NAMES, type ElectronVaultBridge } from '../../../core/api/contract.js';
import { createElectronApi } from './electron.js';
import { createFakeApi } from './fake.js';
import { createLoopbackApi } from './loopback.js';

describe('renderer adapters', () => {
  it('the Electron adapter calls the bridge method of every operation and unwraps it', async () => {
    const called: string[] = [];
    const bridge = Object.fromEntries(
      OPERATION_NAMES.map((op) => [
        op,
        async (...args: unknown[]) => {
          called.push(op);
          return { ok: true, result: { op, args } };
        },
      ])
    ) as unknown as ElectronVaultBridge;
    const api = createElectronApi(bridge) as unknown as Record<
      string,
      (...a: unknown[]) => unknown
    >;
    for (const op of OPERATION_NAMES) {
      assert.deepEqual(await api[op]!('/x'), { op, args: ['/x'] });
    }
    assert.deepEqual(called, [...OPERATION_NAMES]);
  });

  it('the Electron adapter turns error envelopes into ApiErrors with their code', async () => {
    const bridge = {
      inspect: async () => ({ ok: false, error: { code: 'NOT_FOUND', message: 'gone' } }),
    } as unknown as ElectronVaultBridge;
    await assert.rejects(createElectronApi(bridge).inspect('/x'), { code: 'NOT_FOUND' });
  });

  it('the loopback adapter posts every operation to its own route', async () => {
    const posted: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (url: string) => {
      posted.push(url);
      return new Response(JSON.stringify({ result: null }), { status: 200 });
    }) as typeof fetch;
    try {
      const api = createLoopbackApi('t'.repeat(16)) as unknown as Record<
        string,
        (...a: unknown[]) => Promise<unknown>
      >;
      for (const op of OPERATION_NAMES) await api[op]!();
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.deepEqual(
      posted,
      OPERATION_NAMES.map((op) => `/api/${op}`)
    );
  });

  it('the fake implements every operation', () => {
    const fake = createFakeApi() as unknown as Record<string, unknown>;
    for (const op of OPERATION_NAMES) assert.equal(typeof fake[op], 'function', op);
  });
});
