// The man page and completions the build writes (scripts/lib/cli-docs.mjs) cover every command
// and option of the CLI's help texts, render with man(1), and complete in bash.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CLI_DOCS, readCli } from './lib/cli-docs.mjs';
import { root } from './lib/setup.mjs';

describe('generated CLI docs', () => {
  let cli;
  const file = (kind) => readFileSync(join(root, CLI_DOCS[kind]), 'utf8');
  before(async () => {
    cli = await readCli(root);
  });

  it('the man page renders and names every command and option', () => {
    const text = execFileSync('man', ['-l', join(root, CLI_DOCS.man)], {
      env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '0' },
      encoding: 'utf8',
    });
    assert.ok(cli.commands.length >= 9);
    for (const c of cli.commands) {
      assert.match(text, new RegExp(`image-vault ${c.name}\\b`), c.name);
      for (const o of c.options) assert.ok(text.includes(o), `${c.name} ${o}`);
    }
  });

  it('bash completes commands, subcommands and options from the help texts', () => {
    const complete = (...words) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source '${join(root, CLI_DOCS.bash)}'; COMP_WORDS=(image-vault ${words
            .map((w) => `'${w}'`)
            .join(' ')}); COMP_CWORD=${words.length}; _image_vault; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' }
      )
        .trim()
        .split(/\s+/);
    assert.ok(complete('ke').includes('keyslot'));
    assert.deepEqual(complete('keyslot', '').sort(), ['add', 'change', 'list', 'remove', 'test']);
    assert.ok(complete('keyslot', 'add', '--new').includes('--new-passphrase-file'));
    assert.ok(complete('convert', '--no').includes('--no-verify'));
  });

  it('zsh gets the same commands and options', () => {
    const zsh = file('zsh');
    assert.match(zsh, /^#compdef image-vault/);
    for (const c of cli.commands) {
      assert.ok(zsh.includes(`${c.name})`), c.name);
      for (const o of c.options) assert.ok(zsh.includes(o), `${c.name} ${o}`);
    }
  });
});
