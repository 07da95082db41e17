/** qcow version 1 (legacy, read only). */
export {
  openQcow,
  readQcowHeader,
  QcowImage,
  type QcowHeader,
  type QcowOpenOptions,
} from './qcow.js';
