/** The in-memory API's pre-start check: only whether the target name is taken. */
import type { PreflightReport, PreflightRequest } from '../../../core/api/index.js';

export function fakePreflight(req: PreflightRequest, taken: boolean): PreflightReport {
  const refused = taken && req.overwrite !== true;
  return {
    ok: !refused,
    problems: refused
      ? [
          {
            field: 'target',
            severity: 'error',
            code: 'EXISTS',
            message: `${req.target} already exists. Choose another name.`,
          },
        ]
      : [],
    bytesNeeded: 0,
    bytesFree: null,
  };
}
