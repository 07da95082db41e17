/**
 * Passphrase handling in the renderer (docs/DESIGN.md "Secrets"): read an input once, turn it into
 * bytes, clear the field. Nothing here is stored in a store, a log or a URL.
 */

/** Reads a password input into fresh bytes and clears the field. */
export function takePassphrase(input: HTMLInputElement | null): Uint8Array {
  const value = input?.value ?? '';
  if (input) input.value = '';
  return new TextEncoder().encode(value);
}

/** Reads a password input into bytes without clearing it (when the same step needs it again). */
export function peekPassphrase(input: HTMLInputElement | null): Uint8Array {
  return new TextEncoder().encode(input?.value ?? '');
}

/** Clears password inputs. */
export function clearInputs(...inputs: (HTMLInputElement | null)[]): void {
  for (const i of inputs) if (i) i.value = '';
}

/** Zero-fills byte buffers after a call. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}
