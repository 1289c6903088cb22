/** Composition root for `npm start`: read the environment, build the app, start it, stop cleanly. */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from './config.js';
import { createLogger } from './logger.js';

/** Reads KEY=value lines of a .env file into process.env, never overriding what is already set. */
function loadDotEnv(file = '.env') {
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || process.env[m[1]!] !== undefined) continue;
    process.env[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
}

async function main() {
  loadDotEnv();
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and what it expects.\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // The rest of the service is loaded once the environment is known to be right: a wrong value is
  // reported without loading (or, run through tsx, compiling) the whole app first.
  const { createApp } = await import('./app.js');
  const app = await createApp(config, { logger });
  const lines = await app.start();
  for (const line of lines) logger.info(line);
  // performance.now() counts from the process's start: node's own start-up, loading the bundle,
  // opening (and migrating) the database, building the app, starting the channels.
  logger.info(`ready in ${Math.round(performance.now())} ms`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`);
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
