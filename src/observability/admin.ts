import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSeismoError, SeismoError } from '../errors.js';

/**
 * The admin endpoint, on a port of its own so it can stay private while /metrics is scraped:
 *   POST /model/reload            reload from the configured artifactDir
 *   POST /model/reload {"artifactDir": "/models/v7"}   or from another directory
 * 200 with the new and previous model versions; 409 with the reason when the new model was
 * refused (the running one stays).
 */
export class AdminServer {
  private server: Server | undefined;

  constructor(private readonly reload: (dir?: string) => Promise<{ model: string; previous: string }>) {}

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/model/reload') return reply(404, { error: 'not found' });
      if (req.method !== 'POST') return reply(405, { error: 'use POST' });
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        let dir: string | undefined;
        try {
          const body = text.trim() ? (JSON.parse(text) as { artifactDir?: unknown }) : {};
          if (body.artifactDir !== undefined && typeof body.artifactDir !== 'string') return reply(400, { error: '"artifactDir" must be a string' });
          dir = body.artifactDir;
        } catch (err) {
          return reply(400, { error: `body is not JSON: ${(err as Error).message}` });
        }
        this.reload(dir).then(
          (result) => reply(200, { status: 'swapped', ...result }),
          (err: unknown) => reply(409, { status: 'kept the running model', error: err instanceof Error ? err.message : String(err), ...(isSeismoError(err) ? { code: err.code } : {}) }),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new SeismoError('SEISMO_HTTP_FAILED', `admin endpoint cannot listen on ${host}:${port}: ${err.message}`, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
