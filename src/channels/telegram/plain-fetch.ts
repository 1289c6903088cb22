/**
 * The `fetch` the delivery worker's grammY client calls (grammY's `client.fetch` option): one
 * request on node:http(s) with a keep-alive agent, answering the one thing grammY reads from a
 * response, `json()`. grammY's default (node-fetch) builds a Request, Headers and a body stream
 * per call; for a worker sending a message per reply that was a measurable part of the CPU an
 * update costs (docs/design-notes.md, "Cost of one update").
 *
 * Bodies are grammY's: a JSON string, or a multipart stream (a photo upload), piped as is.
 * Aborting (grammY's timeout) destroys the request; a network error or a body that is not JSON
 * rejects, which grammY turns into an HttpError as it does with node-fetch.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

const agents = new Map<string, http.Agent>();

function agentFor(protocol: string): http.Agent {
  let agent = agents.get(protocol);
  if (!agent) {
    agent = protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    agents.set(protocol, agent);
  }
  return agent;
}

interface Init {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal | null;
}

export function plainFetch(input: string | URL, init: Init = {}): Promise<{ status: number; ok: boolean; json(): Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const url = typeof input === 'string' ? new URL(input) : input;
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(new Error('the request was aborted'));
    const body = init.body;
    const headers: Record<string, string | number> = { ...init.headers };
    if (typeof body === 'string') headers['content-length'] = Buffer.byteLength(body);
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: agentFor(url.protocol) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, json: async () => JSON.parse(text) as unknown });
      });
    });
    function fail(error: Error) {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    }
    function onAbort() {
      request.destroy(new Error('the request was aborted'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    if (body === undefined || body === null) request.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) request.end(body);
    else {
      const stream = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
      stream.on('error', (error) => request.destroy(error));
      stream.pipe(request);
    }
  });
}
