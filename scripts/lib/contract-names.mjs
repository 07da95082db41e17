// The part of the contract (core/api/contract.ts) that the page-side bundles need at run time:
// the operation names and their IPC channels, generated at build time from the compiled table.
// The preload and the renderer import `core/api/contract.js` in their sources (and type-check
// against it); their bundles get this module instead, without zod and the schemas (~450 KB).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Matches an import of the contract module from anywhere in the tree. */
export const CONTRACT_IMPORT = /(^|\/)core\/api\/contract\.js$/;

/** JavaScript source of the generated module, from the compiled contract in `dist/`. */
export async function contractNamesSource(root) {
  const url = pathToFileURL(join(root, 'dist', 'core', 'api', 'contract.js')).href;
  const contract = await import(url);
  const channels = Object.fromEntries(
    contract.OPERATION_NAMES.map((op) => [op, contract.channelFor(op)])
  );
  return [
    '// Generated at build time from core/api/contract.ts (scripts/lib/contract-names.mjs).',
    `export const OPERATION_NAMES = Object.freeze(${JSON.stringify(contract.OPERATION_NAMES)});`,
    `const CHANNELS = ${JSON.stringify(channels)};`,
    'export const channelFor = (op) => CHANNELS[op];',
    `export const EVENT_CHANNEL = ${JSON.stringify(contract.EVENT_CHANNEL)};`,
    'export const isOperation = (name) => Object.prototype.hasOwnProperty.call(CHANNELS, name);',
    '',
  ].join('\n');
}
