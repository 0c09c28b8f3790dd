/** `dirbridge serve`: the read-only web view for auditors, behind a token. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { createWebServer } from '../../web/server.js';
import { serveToken } from '../../web/token.js';
import { loggerFor, openReadOnly } from '../shared.js';

export function registerServe(program: Command, config: () => LoadedConfig): void {
  program
    .command('serve')
    .description('the read-only web view for auditors: search, objects with lineage and history, runs, report (token required)')
    .option('--host <host>', 'address to listen on (default serve.host, 127.0.0.1)')
    .option('--port <port>', 'port (default serve.port, 8470; 0 picks a free one)')
    .option('--log-level <level>', 'stderr log level: debug, info, warn, error, silent')
    .action(async (opts: { host?: string; port?: string; logLevel?: string }) => {
      const loaded = config();
      const token = serveToken(loaded);
      const log = loggerFor(loaded, opts.logLevel ?? 'info');
      const store = openReadOnly(loaded, 'there is nothing to show (run the initial profile first)');
      const server = createWebServer(loaded, store, token);
      const host = opts.host ?? loaded.config.serve.host;
      const port = opts.port === undefined ? loaded.config.serve.port : Number(opts.port);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
      const address = server.address() as { port: number };
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
      // The signal handlers go in before the server says it is serving: whoever starts it may stop it
      // as soon as it reads that line, and a SIGTERM before a handler exists kills the process outright.
      const stopped = new Promise<void>((resolve) => {
        const stop = (): void => {
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      log.info({ event: 'serving', url }, `serving the read-only view at ${url} (open it with ?token=...)`);
      await stopped;
      store.close();
    });
}
