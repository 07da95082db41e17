/**
 * The renderer's view of a failed call: the `{ code, message }` payload of core/api/errors.ts
 * rebuilt as an Error the UI can branch on (`err.code === 'WRONG_PASSPHRASE'`).
 */
import type { ErrorCode, ErrorPayload } from '../../../core/api/index.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string
  ) {
    super(message);
  }
}

/** Turns a transport error payload into an `ApiError`. */
export function fromPayload(p: ErrorPayload | undefined): ApiError {
  return new ApiError(p?.code ?? 'INTERNAL', p?.message ?? 'Something went wrong');
}

/** Extracts a code from anything thrown (ApiError, or an Error carrying `code`). */
export function errorCode(e: unknown): ErrorCode {
  if (e instanceof ApiError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (code as ErrorCode) : 'INTERNAL';
}

/** One plain sentence for an error, with the wrong-passphrase case said as such. */
export function describeError(e: unknown): string {
  const code = errorCode(e);
  const raw = (e as { message?: unknown } | null)?.message;
  const message = typeof raw === 'string' ? raw : String(e);
  switch (code) {
    case 'WRONG_PASSPHRASE':
      return 'Wrong passphrase: it does not open any keyslot of this image.';
    case 'WRONG_IDENTITY':
      return 'This key does not open the bundle: it was sealed to other keys. Choose the key it was sent to.';
    case 'BAD_SIGNATURE':
      return `Refused: ${message}`;
    case 'LAST_KEYSLOT':
      return 'This is the last passphrase of the image. Removing it would lock the data away for good.';
    case 'NO_FREE_KEYSLOT':
      return 'All 8 keyslots are in use. Remove a passphrase first.';
    case 'NOT_FOUND':
      return `File not found. ${message}`;
    case 'EXISTS':
      return `A file with that name already exists. ${message}`;
    case 'NO_SPACE':
      return 'There is not enough free space on the target disk.';
    case 'CANCELLED':
      return 'Cancelled. Nothing was left behind.';
    case 'NOT_AN_IMAGE':
      return `This file is not a disk image we recognise. ${message}`;
    default:
      return message;
  }
}
