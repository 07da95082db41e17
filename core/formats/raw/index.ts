/** Raw images (no container). */
export { createRaw, openRaw, reopenRawWriter, RAW_GRANULARITY, type RawImage } from './raw.js';
