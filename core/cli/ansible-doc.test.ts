/**
 * The Ansible recipe in docs/ansible.md is valid YAML of the shape Ansible expects (a list of
 * plays with tasks), keeps passphrases out of logs, and its `image-vault` task runs: its argv,
 * with the playbook's variables filled in, is run through our CLI over a real image twice
 * (changed, then already done), and the JSON report satisfies the task's own `failed_when`
 * exit codes and the `summary.changed` its `changed_when` reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BatchReport } from '../api/types.js';
import { cli } from '../testing/cli.js';
import { scratchDir } from '../testing/peers.js';

const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };

type Task = Record<string, unknown> & { name?: string; block?: Task[]; always?: Task[] };
type Play = { hosts: string; vars?: Record<string, string>; tasks: Task[] };

function docPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'docs', 'ansible.md'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('docs/ansible.md not found');
    dir = up;
  }
  return join(dir, 'docs', 'ansible.md');
}

function playbook(): Play[] {
  const text = readFileSync(docPath(), 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.equal(blocks.length, 1, 'one playbook in docs/ansible.md');
  return yaml.load(blocks[0] as string) as Play[];
}

const allTasks = (tasks: Task[]): Task[] =>
  tasks.flatMap((t) => [t, ...allTasks(t.block ?? []), ...allTasks(t.always ?? [])]);

describe('the Ansible recipe (docs/ansible.md)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await scratchDir()));
  after(async () => cleanup?.());

  test('parses as plays whose secrets are never logged', () => {
    const plays = playbook();
    assert.ok(Array.isArray(plays) && plays.length >= 1);
    const [play] = plays as [Play];
    assert.equal(play.hosts, 'kvm_hosts');
    const tasks = allTasks(play.tasks);
    for (const t of tasks) assert.equal(typeof t.name, 'string', 'every task is named');
    const secrets = tasks.filter((t) => !t.block && JSON.stringify(t).includes('passphrase }}'));
    assert.ok(secrets.length > 0);
    for (const t of secrets) assert.equal(t['no_log'], true, `${t.name} has no_log`);
    const cleanupTask = play.tasks.find((t) => t.always)?.always?.[0];
    assert.equal((cleanupTask?.['ansible.builtin.file'] as { state: string }).state, 'absent');
  });

  test('its image-vault task runs with our CLI and reports as the playbook expects', async () => {
    const [play] = playbook() as [Play];
    const task = allTasks(play.tasks).find((t) =>
      ((t['ansible.builtin.command'] as { argv?: string[] })?.argv ?? [])[0]?.includes(
        'image-vault'
      )
    ) as Task;
    const argv = (task['ansible.builtin.command'] as { argv: string[] }).argv;
    assert.ok(argv.includes('--json'));
    assert.equal(task['register'], 'rotation');
    const allowed = /rc not in \[([\d, ]+)\]/.exec(String(task['failed_when']))?.[1];
    assert.deepEqual(allowed?.split(',').map(Number), [0, 2, 3]);

    const vars: Record<string, string> = {
      image_list: join(dir, 'images.txt'),
      old_pw_file: join(dir, 'old.pw'),
      new_pw_file: join(dir, 'new.pw'),
    };
    await writeFile(vars.old_pw_file as string, 'old secret', { mode: 0o600 });
    await writeFile(vars.new_pw_file as string, 'new secret', { mode: 0o600 });
    const images = [join(dir, 'vm1.qcow2'), join(dir, 'vm2.qcow2')];
    for (const p of images) {
      const made = await cli(
        'create',
        '-f',
        'qcow2',
        '--encrypt',
        '-o',
        'iterations=1000',
        '--passphrase-file',
        vars.old_pw_file as string,
        p,
        '8M'
      );
      assert.equal(made.code, 0, made.stderr);
    }
    await writeFile(vars.image_list as string, `# this host\n${images.join('\n')}\n`);
    const filled = argv
      .slice(1)
      .map((a) => a.replace(/\{\{ (\w+) \}\}/g, (_, v: string) => vars[v] ?? `UNSET:${v}`));
    assert.ok(!filled.some((a) => a.includes('UNSET')), filled.join(' '));
    // Small KDF costs in tests; the playbook keeps the default unlock time.
    const run = () => cli(...filled, '--iterations', '1000');

    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as BatchReport & { exitCode: number };
    assert.equal(report.summary.changed, 2, 'changed_when sees a change');
    const again = JSON.parse((await run()).stdout) as BatchReport;
    assert.equal(again.summary.changed, 0, 'a re-run changes nothing');
    assert.equal(again.summary.unchanged, 2);
  });
});
