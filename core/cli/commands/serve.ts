/** `image-vault serve`: the desktop UI on a loopback port, for headless hosts. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../../api/errors.js';
import { startServer } from '../../server/index.js';
import { createVaultService } from '../../service/vault-service.js';
import { parseArgs, parseInteger } from '../args.js';
import type { CliIo } from '../io.js';
import { openInBrowser } from '../open-page.js';

/** dist/renderer, next to dist/core. */
export function rendererDir(): string {
  return fileURLToPath(new URL('../../../renderer/', import.meta.url));
}

export const serveCommand = {
  help: `image-vault serve [--port N] [--open]

Serves the Image Vault UI on http://127.0.0.1:PORT only, protected by a random token that is
printed once in the URL. Reach it from another machine through an SSH tunnel
(ssh -L 8080:127.0.0.1:PORT host, then open http://127.0.0.1:8080/#token=… locally: any
local port works). --open starts the local browser on a private 0600 page that carries the
token, never on a command line (IMAGE_VAULT_OPENER replaces xdg-open). Ctrl-C stops it.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseArgs(argv, { values: ['port'], flags: ['open'] });
    const port = args.values.has('port')
      ? parseInteger(args.values.get('port') as string, '--port', 0, 65535)
      : 0;
    const staticDir = rendererDir();
    if (!existsSync(staticDir)) throw fail('NOT_FOUND', 'The UI is not built: run `npm run build`');
    const server = await startServer({
      api: createVaultService(),
      port,
      staticDir,
      log: (line) => io.err(line),
    });
    io.out(`Image Vault is serving on ${server.url}`);
    io.out(
      'Open that address in a browser (the token in it is your key; keep it private). Ctrl-C stops.'
    );
    // Never the URL itself in argv: a 0600 page that carries the token (cli/open-page.ts).
    const opened = args.flags.has('open')
      ? await openInBrowser(server.url, { opener: process.env.IMAGE_VAULT_OPENER })
      : undefined;
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await opened?.cleanup();
    io.err('Stopped.');
    return 0;
  },
};
