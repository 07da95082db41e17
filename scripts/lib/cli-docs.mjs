// The man page and shell completions of `image-vault`, generated at build time from the CLI's
// own help texts (core/cli/commands: `usage()` and each command's `help`), so they can never
// disagree with `image-vault --help`. Written to dist/share/ (shipped by the packages).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where each generated file goes, relative to the repository root. */
export const CLI_DOCS = {
  man: 'dist/share/man/man1/image-vault.1',
  bash: 'dist/share/bash-completion/completions/image-vault',
  zsh: 'dist/share/zsh/vendor-completions/_image-vault',
};

/** Every command with its help text, its subcommands and its options, read from the build. */
export async function readCli(root) {
  const at = (rel) => pathToFileURL(join(root, 'dist', 'core', 'cli', rel)).href;
  const { COMMANDS, usage } = await import(at('commands/index.js'));
  const { VERSION } = await import(at('main.js'));
  const commands = [];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { help } = await load();
    const subs = new Set();
    for (const m of help.matchAll(new RegExp(`^image-vault ${name} ([a-z][a-z-]*)`, 'gm'))) {
      subs.add(m[1]);
    }
    // Options of this command: not those of other programs quoted in the text (ssh -L …).
    const own = help
      .split('\n')
      .filter((l) => !/\b(ssh|virsh|qemu-img|cryptsetup) /.test(l))
      .join('\n');
    const options = [...new Set(own.match(/(?<![\w-])--?[a-zA-Z][\w-]*/g) ?? [])]
      .filter((o) => (o.startsWith('--') || /^-[a-zA-Z]$/.test(o)) && o !== '--help')
      .sort();
    commands.push({ name, help, subcommands: [...subs], options });
  }
  return { version: VERSION, usage: usage(), commands };
}

/** roff-escapes one line of plain text (backslashes, leading dots and quotes). */
function roff(line) {
  const text = line.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(text) ? `\\&${text}` : text;
}

const block = (text) => ['.nf', ...text.split('\n').map(roff), '.fi'];

export function manPage(cli) {
  const [title, , ...rest] = cli.usage.split('\n');
  const summary = title.replace(/^image-vault — /, '');
  return [
    `.TH IMAGE-VAULT 1 "" "image-vault ${cli.version}" "User Commands"`,
    '.SH NAME',
    `image\\-vault \\- ${roff(summary)}`,
    '.SH SYNOPSIS',
    '.B image\\-vault',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    ...block(rest.join('\n').trim()),
    '.SH COMMANDS',
    ...cli.commands.flatMap((c) => [`.SS ${c.name}`, ...block(c.help.trim())]),
    '.SH SEE ALSO',
    '.BR qemu\\-img (1),',
    '.BR cryptsetup (8),',
    '.BR virsh (1)',
    '',
  ].join('\n');
}

export function bashCompletion(cli) {
  const cases = cli.commands.map((c) => {
    const subs = c.subcommands.join(' ');
    const opts = c.options.join(' ');
    return `    ${c.name}) subs='${subs}'; opts='${opts}' ;;`;
  });
  return `# bash completion for image-vault (generated from its help texts)
_image_vault() {
  local cur=\${COMP_WORDS[COMP_CWORD]} subs='' opts=''
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W '${cli.commands.map((c) => c.name).join(' ')} --help --version' -- "$cur") )
    return
  fi
  case \${COMP_WORDS[1]} in
${cases.join('\n')}
  esac
  if [ "$COMP_CWORD" -eq 2 ] && [ -n "$subs" ]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
  elif [[ $cur == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts --help" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _image_vault image-vault
`;
}

export function zshCompletion(cli) {
  const cases = cli.commands.map(
    (c) => `    ${c.name}) subs=(${c.subcommands.join(' ')}); opts=(${c.options.join(' ')}) ;;`
  );
  return `#compdef image-vault
# zsh completion for image-vault (generated from its help texts)
_image_vault() {
  local -a subs opts
  if (( CURRENT == 2 )); then
    compadd -- ${cli.commands.map((c) => c.name).join(' ')} --help --version
    return
  fi
  case \${words[2]} in
${cases.join('\n')}
  esac
  if (( CURRENT == 3 )) && (( \${#subs} )); then
    compadd -- $subs
  elif [[ \${words[CURRENT]} == -* ]]; then
    compadd -- $opts --help
  else
    _files
  fi
}
_image_vault "$@"
`;
}

/** Writes the man page and both completions under `root`/dist/share. */
export async function writeCliDocs(root) {
  const cli = await readCli(root);
  const files = { man: manPage(cli), bash: bashCompletion(cli), zsh: zshCompletion(cli) };
  for (const [kind, text] of Object.entries(files)) {
    const out = join(root, CLI_DOCS[kind]);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, text);
  }
  return cli;
}
