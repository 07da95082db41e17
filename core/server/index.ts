/** Loopback server (`image-vault serve`). */
export { startServer, MAX_BODY_BYTES, type ServerOptions, type RunningServer } from './server.js';
export { isLoopbackAddress } from './security.js';
