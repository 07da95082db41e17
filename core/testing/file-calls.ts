/** Test helper: which `FileHandle` reads or writes a piece of code makes. */
import { open } from 'node:fs/promises';
import { join } from 'node:path';

type Proto = Record<'read' | 'write', (...a: unknown[]) => Promise<unknown>>;

/**
 * Runs `f` with `FileHandle.prototype[method]` wrapped to record each call's length (its
 * third argument) and returns the lengths in call order. `dir` is a scratch directory for
 * the probe file that reaches the prototype.
 */
export async function handleCallSizes(
  dir: string,
  method: 'read' | 'write',
  f: () => Promise<unknown>
): Promise<number[]> {
  const probe = await open(join(dir, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as Proto;
  await probe.close();
  const original = proto[method];
  const sizes: number[] = [];
  proto[method] = function (this: unknown, ...a: unknown[]) {
    sizes.push(a[2] as number);
    return original.apply(this, a);
  };
  try {
    await f();
  } finally {
    proto[method] = original;
  }
  return sizes;
}
