/** `image-vault serve`: the desktop UI on a loopback port, for headless hosts. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../../api/errors.js';
import { startServer } from '../../server/index.js';
import { createVaultService } from '../../service/vault-service.js';
import { parseArgs, parseInteger } from '../args.js';
import type { CliIo } from '../io.js';

/** dist/renderer, next to dist/core. */
export function rendererDir(): string {
  return fileURLToPath(new URL('../../../renderer/', import.meta.url));
}

export const serveCommand = {
  help: `image-vault serve [--port N] [--open]

Serves the Image Vault UI on http://127.0.0.1:PORT only, protected by a random token that is
printed once in the URL. Reach it from another machine through an SSH tunnel
(ssh -L 8080:127.0.0.1:PORT host). --open starts the local browser. Ctrl-C stops it.`,
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
    if (args.flags.has('open')) {
      spawn('xdg-open', [server.url], { stdio: 'ignore', detached: true })
        .on('error', () => undefined)
        .unref();
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    io.err('Stopped.');
    return 0;
  },
};
