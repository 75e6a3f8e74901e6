import lockfile from 'proper-lockfile';
import { UsageError } from './args.js';

export class LockedError extends Error {
  constructor(path: string) {
    super(`another volley run holds the lock ${path}; not starting (exit 75: try again later)`);
    this.name = 'LockedError';
  }
}

/**
 * Takes the run lock, or throws LockedError. proper-lockfile makes the lock with an atomic mkdir and keeps its
 * mtime fresh while we run; a lock left by a killed run stops being refreshed and is taken over once stale.
 * Returns the release function.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(path, {
      realpath: false,
      lockfilePath: path,
      stale: 15_000,
      update: 5_000,
      retries: 0,
      // A lock we lose mid-run (clock jumps, someone removed it) must not crash the run: finish and report.
      onCompromised: () => {},
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new LockedError(path);
    // A lock that cannot be made at all (its folder is missing, no permission) is the command's fault: exit 2.
    throw new UsageError(`--lock: cannot take the lock ${path}: ${(err as Error).message}`);
  }
}
