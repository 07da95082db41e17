/** Loopback server (`image-vault serve`) and the transport-neutral request schemas. */
export { startServer, MAX_BODY_BYTES, type ServerOptions, type RunningServer } from './server.js';
export {
  methodSchemas,
  isVaultMethod,
  VAULT_METHODS,
  MAX_PASSPHRASE_BYTES,
  type VaultMethod,
} from './schemas.js';
export { invokeVaultMethod, parseMethodArgs, wipeArgs } from './dispatch.js';
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS, isLoopbackAddress } from './security.js';
