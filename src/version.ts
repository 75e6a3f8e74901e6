import { createRequire } from 'node:module';

// Read at run time so the version has one source of truth; the path holds from both src/ and dist/.
const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

export const VERSION: string = pkg.version;
