/**
 * Runs the real service in-process for a test: real config parsing, a real SQLite file
 * in a temporary folder, the real HTTP server on a free port, channels pointed at fakes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config.js';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { silentLogger, createLogger } from '../../src/logger.js';

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a database folder (to test restarts); a new one otherwise. */
  dir?: string;
  appOptions?: Partial<AppOptions>;
}

export interface TestApp {
  app: App;
  dir: string;
  baseUrl: string;
  stop(): Promise<void>;
  /** Stops and removes the temporary folder. */
  dispose(): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'bot-test-'));
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dir ?? tempDir();
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${path.join(dir, 'bot.db')}`,
    ...options.env,
  });
  const logger = process.env.TEST_LOG ? createLogger('debug') : silentLogger;
  const app = await createApp(config, {
    logger,
    zaloPoll: { timeoutSeconds: 1, backoff: { initialMs: 20, maxMs: 200 } },
    ...options.appOptions,
  });
  await app.start();
  const baseUrl = `http://127.0.0.1:${app.port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  return {
    app,
    dir,
    baseUrl,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
