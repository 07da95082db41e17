/**
 * The numbered step list at the top of a wizard ("1. Bundle", "2. Passphrase", …); the current
 * step carries `aria-current="step"`.
 */
export function StepList<S extends string>({
  steps,
  current,
}: {
  /** Step ids with their labels, in order. */
  steps: readonly (readonly [S, string])[];
  current: S;
}) {
  return (
    <ol className="steps" aria-label="Steps">
      {steps.map(([s, label], i) => (
        <li
          key={s}
          className={s === current ? 'current' : ''}
          aria-current={s === current ? 'step' : undefined}
        >
          {i + 1}. {label}
        </li>
      ))}
    </ol>
  );
}
