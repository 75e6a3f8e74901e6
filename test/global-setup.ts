import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * Under vitest the code runs from src/, but the parse threads load the build (dist/parse/): a thread cannot load
 * TypeScript. A stale build would silently test old parser code, so the suite refuses to start when any file the
 * threads load is older than its source. `npm test` builds first; a bare `npx vitest` after an edit says so here.
 */
export default function checkBuildIsFresh(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const src = join(root, 'src/parse');
  const stale: string[] = [];
  for (const file of readdirSync(src)) {
    const built = join(root, 'dist/parse', file.replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(src, file)).mtimeMs) stale.push(`src/parse/${file}`);
  }
  if (stale.length > 0) {
    throw new Error(`dist/ is older than ${stale.join(', ')}: the parse threads would run old code. Run \`npm run build\` (npm test does).`);
  }
}
