/** Entry point of `npm run admin -- <command>` (see cli.ts). */
import { ConfigError } from '../config.js';
import { runAdmin } from './cli.js';

runAdmin(process.argv.slice(2), process.env, (line) => process.stdout.write(line + '\n'))
  .then((code) => process.exit(code))
  .catch((error) => {
    process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `admin failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
