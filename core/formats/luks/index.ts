/**
 * LUKS1/LUKS2 on a `HeaderIO` (raw devices or the qcow2 LUKS region): inspect, unlock,
 * create, keyslot management, and raw LUKS containers. Knows nothing about qcow2.
 */
export { inspectLuks, detectLuksVersion, looksLikeLuks } from './inspect.js';
export {
  unlockLuks,
  testPassphrase,
  addKeyslot,
  removeKeyslots,
  changePassphrase,
  type KeyslotWriteOptions,
} from './keyslots.js';
export { formatLuks1, luksHeaderLength } from './luks1-format.js';
export { dataCipherFor } from './data-cipher.js';
export { headerIOForDevice } from './header-io.js';
export { openRawLuks, createRawLuks, type RawLuksImage, type RawLuks2Options } from './raw-luks.js';
export { formatLuks2, type Luks2CreateOptions } from './luks2-format.js';
export type { UnlockedLuks, LuksCreateOptions } from './unlocked.js';
