// Probes for eslint.config.js: each layer zone, the node:crypto door and max-lines must fire
// on a file that breaks them and stay quiet on one that does not (a rule that cannot fire is
// a defect). Lints in-memory texts at real paths with ESLint's own API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { CORE_LAYERS, LAYER_IMPORTS } from './lib/layers.mjs';
import { root } from './lib/setup.mjs';

const eslint = new ESLint({ cwd: root });

/** Rule ids reported for `code` linted as if it lived at `filePath`. */
async function ruleIds(filePath, code) {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

const restricted = (ids) => ids.includes('no-restricted-imports');
const probe = (from, spec) => `import { x } from '${spec}';\nexport const y = x;\n`;

describe('ESLint layer zones', () => {
  for (const layer of CORE_LAYERS) {
    const allowed = new Set([layer, ...LAYER_IMPORTS[layer]]);
    const refused = CORE_LAYERS.filter((l) => !allowed.has(l));
    it(`core/${layer} refuses ${refused.join(', ') || 'nothing above it'} and core/testing`, async () => {
      const file = `core/${layer}/probe/zone-probe.ts`;
      for (const other of [...refused, 'testing']) {
        const ids = await ruleIds(file, probe(file, `../../${other}/x.js`));
        assert.ok(restricted(ids), `core/${layer} importing core/${other} was not refused`);
      }
      for (const other of allowed) {
        const ids = await ruleIds(file, probe(file, `../../${other}/x.js`));
        assert.ok(!restricted(ids), `core/${layer} importing core/${other} was refused`);
      }
    });
  }

  it('core reaches node:crypto only through core/crypto/node-crypto.ts', async () => {
    assert.ok(restricted(await ruleIds('core/io/probe.ts', probe(0, 'node:crypto'))));
    assert.ok(restricted(await ruleIds('core/crypto/hash.ts', probe(0, 'node:crypto'))));
    assert.ok(restricted(await ruleIds('core/service/x.ts', probe(0, 'crypto'))));
    assert.ok(!restricted(await ruleIds('core/crypto/node-crypto.ts', probe(0, 'node:crypto'))));
  });

  it('core imports no UI library and no face', async () => {
    assert.ok(restricted(await ruleIds('core/service/x.ts', probe(0, 'electron'))));
    assert.ok(restricted(await ruleIds('core/jobs/x.ts', probe(0, 'react'))));
    assert.ok(restricted(await ruleIds('core/api/x.ts', probe(0, '../../renderer/src/x.js'))));
  });

  it('electron/ reaches core only through core/api, core/service and core/web', async () => {
    const file = 'electron/main/probe.ts';
    for (const bad of ['server', 'cli', 'formats', 'crypto', 'jobs', 'testing']) {
      assert.ok(restricted(await ruleIds(file, probe(0, `../../core/${bad}/x.js`))), bad);
    }
    for (const good of ['api', 'service', 'web']) {
      assert.ok(!restricted(await ruleIds(file, probe(0, `../../core/${good}/x.js`))), good);
    }
    assert.ok(restricted(await ruleIds(file, probe(0, '../../renderer/src/x.js'))));
  });

  it('the renderer imports core/api only, and no Node or Electron module', async () => {
    const file = 'renderer/src/features/Probe.tsx';
    assert.ok(!restricted(await ruleIds(file, probe(0, '../../../core/api/index.js'))));
    for (const bad of ['service', 'server', 'crypto', 'web']) {
      assert.ok(restricted(await ruleIds(file, probe(0, `../../../core/${bad}/x.js`))), bad);
    }
    assert.ok(restricted(await ruleIds(file, probe(0, 'node:fs'))));
    assert.ok(restricted(await ruleIds(file, probe(0, 'electron'))));
    assert.ok(restricted(await ruleIds(file, probe(0, '../../../electron/preload/x.js'))));
  });

  it('max-lines refuses a source file over 400 lines, not a test', async () => {
    const long = Array.from({ length: 401 }, (_, i) => `export const v${i} = ${i};`).join('\n');
    assert.ok((await ruleIds('core/jobs/long.ts', long + '\n')).includes('max-lines'));
    assert.ok(!(await ruleIds('core/jobs/long.test.ts', long + '\n')).includes('max-lines'));
    const short = long.split('\n').slice(0, 400).join('\n');
    assert.ok(!(await ruleIds('core/jobs/short.ts', short + '\n')).includes('max-lines'));
  });
});
