export {
  createVaultService,
  type VaultService,
  type VaultServiceOptions,
} from './vault-service.js';
