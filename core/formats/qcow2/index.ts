/** qcow2 (v2/v3) reading, writing and checking (docs/spec/qcow2.md). */
export {
  openQcow2,
  Qcow2Image,
  regionIO,
  resolveBackingPath,
  type Qcow2OpenOptions,
} from './reader.js';
export { createQcow2, reopenQcow2Writer, Qcow2Writer, type Qcow2CreateOptions } from './create.js';
export { checkQcow2, type Qcow2CheckResult } from './check.js';
export { readQcow2Header, type Qcow2Header } from './header.js';
