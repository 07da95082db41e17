/** Output channels of the CLI, injectable so commands can be tested in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Raw progress output (a status line on a TTY). */
  progress(text: string): void;
  readonly stderrIsTTY: boolean;
}

export function createCliIo(): CliIo {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    progress: (t) => process.stderr.write(t),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}
