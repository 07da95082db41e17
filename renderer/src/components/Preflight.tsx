/**
 * Checks before a job starts (issue #14): runs the contract's `preflight`, keeps its problems
 * per field so each shows next to the input at fault, and lets warnings through only after
 * the user has seen them (the start button then reads "Start anyway").
 */
import { useState } from 'react';
import type {
  PreflightField,
  PreflightProblem,
  PreflightRequest,
} from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { Icon } from './Icon.js';

/** Problems by field; `form` holds those about no field (or a failed check call). */
export type Problems = Partial<Record<PreflightField | 'form' | 'newPassphrase', PreflightProblem>>;

export function usePreflight() {
  const [problems, setProblems] = useState<Problems>({});
  const [seenWarnings, setSeenWarnings] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  /** Shows one problem (a face's own check) at a field, or clears it. */
  const setProblem = (field: keyof Problems, message: string | null) =>
    setProblems((p) => {
      const next = { ...p };
      if (message)
        next[field] = { field: 'target', severity: 'error', code: 'INVALID_ARGUMENT', message };
      else delete next[field];
      return next;
    });

  /**
   * True when the job may start: no errors, and any warnings were already shown for this
   * same request (a second press of the start button).
   */
  const run = async (req: PreflightRequest): Promise<boolean> => {
    setChecking(true);
    try {
      const r = await api().preflight(req);
      const byField: Problems = {};
      for (const p of r.problems)
        if (!byField[p.field] || p.severity === 'error') byField[p.field] = p;
      setProblems(byField);
      if (!r.ok) return false;
      const warnings = r.problems.map((p) => p.message).join('\n');
      if (warnings && warnings !== seenWarnings) {
        setSeenWarnings(warnings);
        return false;
      }
      return true;
    } catch (e) {
      setProblems({
        form: { field: 'target', severity: 'error', code: 'INTERNAL', message: describeError(e) },
      });
      return false;
    } finally {
      setChecking(false);
    }
  };

  const hasWarningsOnly =
    Object.values(problems).length > 0 &&
    Object.values(problems).every((p) => p?.severity === 'warning');

  return {
    problems,
    checking,
    run,
    setProblem,
    clear: () => setProblems({}),
    /** Warnings shown and not yet accepted: the start button says "… anyway". */
    awaitingConfirm: hasWarningsOnly && seenWarnings !== null,
  };
}

/** The problem of one field, right under it. */
export function FieldProblem({ problem }: { problem: PreflightProblem | undefined }) {
  if (!problem) return null;
  const warn = problem.severity === 'warning';
  return (
    <p className={`field-problem ${warn ? 'warning' : ''}`} role={warn ? 'status' : 'alert'}>
      <Icon name="warning" size={14} />
      <span>{problem.message}</span>
    </p>
  );
}

/** The problems of several fields, in order (those shown under one group of inputs). */
export function FieldProblems(props: { problems: Problems; fields: (keyof Problems)[] }) {
  return props.fields.map((f) => <FieldProblem key={f} problem={props.problems[f]} />);
}
