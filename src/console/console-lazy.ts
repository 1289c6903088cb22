/**
 * The console as the app holds it: its pages (Hono, @hono/node-server, the page templates, the
 * Chart.js and Leaflet files it serves) are loaded on the first /console request or sign-in
 * link, or by `load()` once the service answers, not before: start-up does not wait for them.
 * Sign-in links and sessions (console-auth.ts) need none of it and are there from the start.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createConsoleAuth } from './console-auth.js';
import type { ConsoleDeps, ConsoleWeb } from './console-app.js';

export function createLazyConsole(deps: ConsoleDeps) {
  const auth = deps.auth ?? createConsoleAuth({ db: deps.db, clock: deps.clock });
  let loading: Promise<ConsoleWeb> | undefined;
  const load = () => (loading ??= import('./console-app.js').then(({ createConsole }) => createConsole({ ...deps, auth })));
  return {
    auth,
    /** Loads the pages now (the app calls it once it answers), so the first page does not wait. */
    load: async (): Promise<void> => void (await load()),
    /** The HTTP server's route: true when the request was the console's. */
    async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
      if (url.pathname !== '/console' && !url.pathname.startsWith('/console/')) return false;
      return (await load()).route(req, res, url);
    },
    /** The one-time sign-in link for a person (the /console command). */
    async issueLink(personId: string): Promise<string> {
      return (await load()).issueLink(personId);
    },
  };
}

export type LazyConsole = ReturnType<typeof createLazyConsole>;
