/** Types for the `bcrypt-pbkdf` package (OpenBSD's bcrypt_pbkdf in JavaScript). */
declare module 'bcrypt-pbkdf' {
  /** Fills `key` (`keylen` bytes); returns 0, or -1 on bad arguments. */
  export function pbkdf(
    pass: Uint8Array,
    passlen: number,
    salt: Uint8Array,
    saltlen: number,
    key: Uint8Array,
    keylen: number,
    rounds: number
  ): number;
}
