import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeismoError } from '../errors.js';
import { hasBearer } from './auth.js';
import type { Metrics } from './metrics.js';

export interface Readiness {
  ready: boolean;
  /** Shown on /readyz: lifecycle state, backend (and why it is a fallback), model. */
  detail: Record<string, unknown>;
}

/**
 * /metrics (Prometheus text), /healthz (alive: 503 once unready past the grace, or the consumer
 * is gone), /readyz (ready to score, with detail). With a metrics token, /metrics answers 401 to
 * requests without `Authorization: Bearer <it>`; the probes stay open (kubelets do not carry
 * tokens, and they reveal nothing sensitive).
 */
export class HttpServer {
  private server: Server | undefined;
  private metricsToken: string | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly readiness: () => Readiness,
    private readonly liveness: () => { live: boolean; detail: Record<string, unknown> } = () => ({ live: true, detail: {} }),
  ) {}

  async listen(host: string, port: number, options: { metricsToken?: string | undefined } = {}): Promise<number> {
    this.metricsToken = options.metricsToken;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics' && this.metricsToken !== undefined && !hasBearer(req, this.metricsToken)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
        res.end('missing or wrong bearer token for /metrics (http.metricsTokenFile)\n');
      } else if (path === '/metrics') {
        this.metrics.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
            res.end(body);
          },
          (err: Error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(err.message);
          },
        );
      } else if (path === '/healthz') {
        const l = this.liveness();
        res.writeHead(l.live ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: l.live ? 'ok' : 'failing', ...l.detail }));
      } else if (path === '/readyz') {
        const r = this.readiness();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r.detail }));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new SeismoError('SEISMO_HTTP_FAILED', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
