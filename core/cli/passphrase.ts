/**
 * Where the CLI gets secrets from: a file (`-` = stdin), an inherited file descriptor, or a
 * TTY prompt without echo — never argv (docs/DESIGN.md, "Secrets"). Bytes are used as-is: a
 * trailing newline in a file is part of the passphrase, as in qemu and cryptsetup.
 */
import { readFileSync, readSync } from 'node:fs';
import { fail } from '../api/errors.js';

export interface PassphraseSource {
  file?: string;
  fd?: number;
  /** Prompt text when reading from the terminal. */
  prompt: string;
  /** Ask twice and compare (for new passphrases). */
  confirm?: boolean;
}

let stdinUsed = false;

function readFd(fd: number): Uint8Array {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSyncSafe(fd, buf);
    } catch (e) {
      throw fail('IO', `Cannot read the passphrase from file descriptor ${fd}`, e);
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  buf.fill(0);
  const out = new Uint8Array(Buffer.concat(chunks));
  for (const c of chunks) c.fill(0);
  return out;
}

function readSyncSafe(fd: number, buf: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as { code?: string }).code === 'EAGAIN') continue;
      if ((e as { code?: string }).code === 'EOF') return 0;
      throw e;
    }
  }
}

/** Reads a passphrase as bytes from the configured source. */
export async function readPassphrase(src: PassphraseSource): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (src.file !== undefined) {
    if (src.file === '-') {
      if (stdinUsed) throw fail('INVALID_ARGUMENT', 'Only one passphrase can come from stdin (-)');
      stdinUsed = true;
      bytes = readFd(0);
    } else {
      try {
        bytes = new Uint8Array(readFileSync(src.file));
      } catch (e) {
        throw fail('NOT_FOUND', `Cannot read passphrase file ${src.file}`, e);
      }
    }
  } else if (src.fd !== undefined) {
    bytes = readFd(src.fd);
  } else if (process.stdin.isTTY) {
    bytes = await promptHidden(src.prompt);
    if (src.confirm) {
      const again = await promptHidden('Repeat to confirm: ');
      const same = Buffer.from(bytes).equals(Buffer.from(again));
      again.fill(0);
      if (!same) {
        bytes.fill(0);
        throw fail('INVALID_ARGUMENT', 'The two passphrases do not match');
      }
    }
  } else {
    throw fail(
      'NEEDS_PASSPHRASE',
      `${src.prompt.replace(/:\s*$/, '')} is needed: pass it with a --…passphrase-file option (- for stdin)`
    );
  }
  if (bytes.length === 0) throw fail('INVALID_ARGUMENT', 'The passphrase is empty');
  return bytes;
}

/** Prompts on the terminal with echo off; returns the UTF-8 bytes typed (no newline). */
async function promptHidden(prompt: string): Promise<Uint8Array> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  const bytes: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const b of chunk) {
          if (b === 0x0d || b === 0x0a) {
            stdin.off('data', onData);
            resolve();
            return;
          }
          if (b === 0x03) {
            stdin.off('data', onData);
            reject(fail('CANCELLED', 'Cancelled'));
            return;
          }
          if (b === 0x7f || b === 0x08) bytes.pop();
          else bytes.push(b);
        }
        chunk.fill(0);
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
  const out = new Uint8Array(bytes);
  bytes.fill(0);
  return out;
}
