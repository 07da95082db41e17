// `headerConvert` and `headerRepair` as every face calls them: through the contract's
// dispatch (argument and result schemas), judged by cryptsetup.
import assert from 'node:assert/strict';
import { writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { invokeOperation } from '../api/dispatch.js';
import { toVaultError } from '../api/errors.js';
import { cryptsetupLuksFormat, luksFixture, type LuksFixture } from '../testing/luks-peers.js';
import { peerTestOptions, run, runOk } from '../testing/peers.js';
import { createVaultService } from './vault-service.js';

describe('header operations through the contract', peerTestOptions('cryptsetup'), () => {
  let fx: LuksFixture;
  let image: string;
  const api = createVaultService({ threads: 0 });
  before(async () => {
    fx = await luksFixture();
    image = join(fx.dir, 'raw.luks');
    await writeFile(image, '');
    await truncate(image, 32 * 1024 * 1024);
    await cryptsetupLuksFormat(image, fx.pw, ['--key-size', '256']);
  });
  after(async () => fx?.cleanup());

  it('converts LUKS1 to LUKS2 in place, and cryptsetup opens it as LUKS2', async () => {
    const r = (await invokeOperation(api, 'headerConvert', [{ path: image, luksVersion: 2 }])) as {
      from: number;
      to: number;
    };
    assert.deepEqual([r.from, r.to], [1, 2]);
    assert.match(await runOk('cryptsetup', ['luksDump', image]), /^Version:\s+2$/m);
    const t = await run('cryptsetup', ['open', '--test-passphrase', '--key-file', fx.pw, image]);
    assert.equal(t.code, 0, t.stderr);
  });

  it('reports nothing to repair on a sound header', async () => {
    const r = (await invokeOperation(api, 'headerRepair', [image])) as { action: string };
    assert.equal(r.action, 'none');
  });

  it('refuses a LUKS version that does not exist, by the argument schema', async () => {
    await assert.rejects(
      invokeOperation(api, 'headerConvert', [{ path: image, luksVersion: 3 }]),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });
});
