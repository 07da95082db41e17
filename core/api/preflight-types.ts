/**
 * The checks a face runs before it starts a job (issue #14, "Check before any job starts"):
 * the request names what the job would read and write; the report says, per field, what
 * would make the job fail or what the user should know first.
 */
import type { ErrorCode } from './errors.js';
import type { OutputFormat, Passphrase } from './types.js';

export type PreflightKind = 'convert' | 'migrate' | 'export' | 'import';

export interface PreflightRequest {
  kind: PreflightKind;
  /** The image (convert, migrate, export) or bundle (import) the job reads. */
  source: string;
  /** What the job writes: the image, or for export the bundle folder or `.tar`. */
  target: string;
  /** The user confirmed replacing an existing target. */
  overwrite?: boolean;
  /** When given, it must open the source (LUKS sources; legacy AES has no check value). */
  sourcePassphrase?: Passphrase;
  /** convert: the output format (the worst case of raw is the whole virtual size). */
  format?: OutputFormat;
  /** When given, this libvirt connection must answer (the job defines a secret there). */
  libvirtUri?: string;
}

/** The input a problem belongs to, so a face shows it next to that field. */
export type PreflightField = 'source' | 'sourcePassphrase' | 'target' | 'space' | 'libvirt';

export interface PreflightProblem {
  field: PreflightField;
  /** `error` stops the start; `warning` needs the user's confirmation. */
  severity: 'error' | 'warning';
  code: ErrorCode;
  message: string;
}

export interface PreflightReport {
  /** No errors (warnings may remain). */
  ok: boolean;
  problems: PreflightProblem[];
  /** Bytes the output may need at most, and bytes free where it goes (null: unknown). */
  bytesNeeded: number;
  bytesFree: number | null;
}
