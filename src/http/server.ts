/**
 * One HTTP server for webhooks, the web chat, media and /healthz.
 * Webhook secrets are checked in constant time before any of the body is read.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { BodyTooLargeError, parseJson, readBody, secretMatches, securityHeaders, sendJson } from './http-util.js';

const MAX_WEBHOOK_BYTES = 1024 * 1024;

export interface WebhookEndpoint {
  secret?: string;
  secretHeader: string;
  /**
   * Takes a parsed JSON body; false means "not an update we understand" (answered 400).
   * The answer (200) goes out only once the promise resolved: after the update's effects were
   * committed. A rejection answers 500, so the platform delivers the update again.
   */
  accept(body: unknown): boolean | Promise<boolean>;
}

export interface HttpServerDeps {
  logger: Logger;
  webhooks: Partial<Record<'telegram' | 'zalo', WebhookEndpoint>>;
  routes: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>>;
  health(): Promise<Record<string, unknown>>;
  /** PUBLIC_URL, when set: an https address adds HSTS to every answer. */
  publicUrl?: string;
}

export function createHttpServer(deps: HttpServerDeps) {
  const { logger } = deps;
  const headers = Object.entries(securityHeaders({ https: deps.publicUrl?.startsWith('https://') ?? false }));

  async function webhook(endpoint: WebhookEndpoint, req: IncomingMessage, res: ServerResponse) {
    if (!secretMatches(req.headers[endpoint.secretHeader], endpoint.secret)) {
      req.resume();
      return sendJson(res, 401, { error: 'unauthorized' });
    }
    const body = parseJson(await readBody(req, MAX_WEBHOOK_BYTES));
    if (body === undefined || body === null || typeof body !== 'object') return sendJson(res, 400, { error: 'body must be a JSON object' });
    if (!(await endpoint.accept(body))) return sendJson(res, 400, { error: 'not an update' });
    sendJson(res, 200, { ok: true });
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const [name, value] of headers) res.setHeader(name, value);
    try {
      const hook = url.pathname.match(/^\/webhooks\/(telegram|zalo)$/)?.[1] as 'telegram' | 'zalo' | undefined;
      if (hook) {
        const endpoint = deps.webhooks[hook];
        if (!endpoint || req.method !== 'POST') return sendJson(res, 404, { error: 'not found' });
        return await webhook(endpoint, req, res);
      }
      if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true, ...(await deps.health()) });
      for (const route of deps.routes) if (await route(req, res, url)) return;
      sendJson(res, 404, { error: 'not found' });
    } catch (error) {
      if (error instanceof BodyTooLargeError) return sendJson(res, 413, { error: 'body too large' });
      logger.error('http request failed', { path: url.pathname, error });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    }
  }

  const server: Server = createServer((req, res) => void dispatch(req, res));
  return {
    server,
    listen(port: number, host: string): Promise<number> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
