/**
 * A test-only pause point. With `IMAGE_VAULT_TEST_HOLD=FILE` in the environment, a writing
 * keyslot operation that holds its image lock waits here until FILE exists (at most a
 * minute), so interop tests can run QEMU against an image we hold without racing a timer
 * (README "Image locks"). Without the variable it returns at once.
 */
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const MAX_HOLD_MS = 60_000;

export async function testHoldPoint(): Promise<void> {
  const gate = process.env.IMAGE_VAULT_TEST_HOLD;
  if (!gate) return;
  const until = Date.now() + MAX_HOLD_MS;
  while (Date.now() < until) {
    if (
      await access(gate).then(
        () => true,
        () => false
      )
    )
      return;
    await sleep(20);
  }
}
