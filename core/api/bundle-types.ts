/**
 * Hand-over bundle types of the contract (README "Bundles: handing a VM over"): export and
 * import requests, the manifest, signers and keys. Re-exported by types.ts.
 */
import type { EncryptOptions, Passphrase } from './types.js';

export interface ExportRequest {
  source: string;
  /** The bundle folder, or with `tar` the bundle file (`.tar` is added when missing). */
  bundleDir: string;
  recipient: string;
  sourcePassphrase?: Passphrase;
  /** The handed-over passphrase (passphrase mode); absent when the secret is sealed. */
  recipientPassphrase?: Passphrase;
  /**
   * Seal a fresh random secret to these keys instead (README "Bundles"): `age1…` recipients
   * and SSH public key lines (`ssh-ed25519`, `ssh-rsa`, `authorized_keys` lines), one a line.
   */
  sealTo?: string;
  /** An OpenSSH private key file that signs the manifest (SSHSIG, `image-vault-bundle`). */
  signingKey?: string;
  signingKeyPassphrase?: Passphrase;
  keepMasterKey?: boolean;
  tar?: boolean;
  encryption?: EncryptOptions;
}

export interface ImportRequest {
  /** A bundle folder or bundle file (`.tar`). */
  bundleDir: string;
  target: string;
  /** The handed-over passphrase (passphrase bundles). */
  passphrase?: Passphrase;
  /** An age identity file or OpenSSH private key that opens a sealed bundle. */
  identityFile?: string;
  identityPassphrase?: Passphrase;
  /** Refuse the bundle (`BAD_SIGNATURE`) unless a signer listed here signed it. */
  allowedSignersFile?: string;
  newPassphrase?: Passphrase;
  keepHandedOver?: boolean;
  libvirtUri?: string;
  defineSecret?: boolean;
  encryption?: EncryptOptions;
}

/** Who signed a bundle, and whether the allowed-signers file trusts them. */
export interface BundleSigner {
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
  keyType: string;
  comment?: string;
  /** Principals of the allowed-signers lines that trust this key (empty when none). */
  principals: string[];
  /** true/false against the allowed-signers file; null when none was given. */
  trusted: boolean | null;
}

/** What a bundle holds, checked as far as possible without opening it. */
export interface BundleSummary {
  manifest: BundleManifest;
  layout: 'folder' | 'tar';
  signed: boolean;
  signer?: BundleSigner;
  sealed: boolean;
}

/** A recipient or signing key as the UI shows it. */
export interface KeyInfo {
  type: string;
  /** `age1…` for age keys, `SHA256:…` for SSH keys. */
  fingerprint: string;
  comment?: string;
}

export interface DescribeKeysRequest {
  /** Recipient lines (age1… / SSH public keys), as for `ExportRequest.sealTo`. */
  recipients?: string;
  /** A private key file (signing key or identity). */
  privateKey?: string;
  /** A public key file (`.pub`, `authorized_keys`, age recipients) to read recipients from. */
  publicKeyFile?: string;
}

export interface PrivateKeyInfo extends KeyInfo {
  /** The key file needs a passphrase. */
  encrypted: boolean;
}

export interface KeyDescription {
  recipients: KeyInfo[];
  privateKey?: PrivateKeyInfo;
  /** The recipient lines read from `publicKeyFile` (public keys only, no comments). */
  publicKeyText?: string;
}

/** A key pair of the user's (~/.ssh/NAME with NAME.pub, or an age identity file). */
export interface OwnKey extends KeyInfo {
  privatePath: string;
  /** The public half, ready to paste as a recipient. */
  publicLine: string;
  encrypted: boolean;
}

/** `manifest.json` of an export bundle: describes the image, never holds a secret. */
export interface BundleManifest {
  kind: 'image-vault-bundle';
  version: 1;
  tool: string;
  createdAt: string;
  recipient: string;
  /** File name of the encrypted image inside the bundle folder. */
  image: string;
  format: 'qcow2' | 'luks';
  virtualSize: number;
  luksUuid: string;
  cipher: string;
  /** SHA-256 (hex) of the image file, verified on import. */
  sha256: string;
  /** UUID proposed for the libvirt secret. */
  secretUuid: string;
  freshMasterKey: boolean;
  /** Size of the image file in bytes (checked on import). */
  imageSize?: number;
  /** The sealed secret (`secret.age`), its digest and who it is sealed to. */
  sealed?: { file: string; sha256: string; recipients: KeyInfo[] };
}
