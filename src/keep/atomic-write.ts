import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchError } from '../errors.js';
import { TEMP_PREFIX, isSafeSegment } from './file-segment.js';

function osCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** libuv's description of an OS error without the absolute path it appends ("EACCES: permission denied, open '/…'"). */
function osDescription(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /^[A-Z0-9_]+: ([^,]+)/u.exec(message)?.[1] ?? message;
}

/** The WRITE failure: stable code, the OS error code, and the path relative to the save directory only. */
function writeError(relPath: string, code: string, what: string, cause?: unknown): FetchError {
  return new FetchError('WRITE', `could not write ${JSON.stringify(relPath)} (${code}): ${what}`, { cause });
}

/**
 * The parts of a relative path, or a WRITE error when it could name something outside the directory: absolute
 * (`/x`, `C:x`, `\\server`), a `.`/`..` or empty part, a backslash, NUL or another character a file system
 * refuses, a Windows device name. Names from SaveNamer always pass; this is the writer's own guard.
 */
function safeParts(relPath: string): string[] {
  const parts = typeof relPath === 'string' ? relPath.split('/') : [];
  if (parts.length === 0 || !parts.every(isSafeSegment)) {
    throw writeError(String(relPath), 'EINVAL', 'not a safe relative path (nothing is written outside the save directory)');
  }
  return parts;
}

/**
 * Makes each missing directory on the way, one level at a time, and refuses any existing part that is a symbolic
 * link (lstat: never followed) or not a directory. A concurrent write making the same directory is fine (EEXIST,
 * then checked like any existing one).
 */
async function ensureDirs(dir: string, parts: string[], relPath: string): Promise<string> {
  let current = dir;
  for (const part of parts) {
    current = join(current, part);
    let stat = await lstat(current).catch((err: unknown) => {
      if (osCode(err) === 'ENOENT') return null;
      throw writeError(relPath, osCode(err), `cannot inspect ${part}`, err);
    });
    if (stat === null) {
      try {
        await mkdir(current);
        continue;
      } catch (err) {
        if (osCode(err) !== 'EEXIST') throw writeError(relPath, osCode(err), `cannot create directory ${part}`, err);
        stat = await lstat(current).catch((e: unknown) => {
          throw writeError(relPath, osCode(e), `cannot inspect ${part}`, e);
        });
      }
    }
    if (stat.isSymbolicLink()) throw writeError(relPath, 'ELOOP', `${part} is a symbolic link; links inside the save directory are not followed`);
    if (!stat.isDirectory()) throw writeError(relPath, 'ENOTDIR', `${part} exists and is not a directory`);
  }
  return current;
}

/**
 * Temporary names: random per process, then a counter (O_EXCL refuses a name that exists anyway). One random draw
 * per process instead of one per file: randomBytes is a synchronous call that showed in profiles of big runs.
 */
const TEMP_ID = randomBytes(6).toString('hex');
let tempCount = 0;

/** O_NOFOLLOW where the platform has it (not Windows), so even a link appearing at the temporary name is refused. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Writes `bytes` to `dir/relPath` so that the file is either absent or complete: into a temporary file
 * (`.volley-tmp-<random>`, created exclusively) in the same directory, then renamed over the target, which POSIX
 * makes atomic within one file system. No fsync: a crash of the machine may lose the file, never half-write it
 * under its final name (the trade: rows stay true, and the disk is not a bottleneck).
 *
 * `dir` is created when missing and may itself be or contain a symbolic link (the user chose it); inside it,
 * every existing part of `relPath` is checked with lstat and a link is refused, as is a target that is a link.
 * On failure the temporary file is removed and a FetchError('WRITE') names the OS code and the relative path.
 *
 * `checkedDirs`, shared by the writes of one run, remembers the directories (relative paths) already made or
 * checked, so that the next file in one of them skips the mkdir and lstat calls (3 of 8 file-system calls per file
 * under `{host}/{path}`); a directory that failed the check is never remembered.
 *
 * @returns the absolute path written and the hex SHA-256 of the bytes.
 */
export async function writeFileAtomic(
  dir: string,
  relPath: string,
  bytes: Uint8Array,
  checkedDirs?: Set<string>,
): Promise<{ path: string; sha256: string }> {
  const parts = safeParts(relPath);
  const parentPath = parts.slice(0, -1).join('/');
  let parent: string;
  if (checkedDirs?.has(parentPath)) {
    parent = join(dir, ...parts.slice(0, -1));
  } else {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw writeError(relPath, osCode(err), 'cannot create the save directory', err);
    }
    parent = await ensureDirs(dir, parts.slice(0, -1), relPath);
    checkedDirs?.add(parentPath);
  }
  const target = join(parent, parts.at(-1)!);
  const existing = await lstat(target).catch(() => null);
  if (existing?.isSymbolicLink()) throw writeError(relPath, 'ELOOP', 'the target is a symbolic link; links inside the save directory are not followed');
  if (existing?.isDirectory()) throw writeError(relPath, 'EISDIR', 'the target is a directory');

  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const temp = join(parent, `${TEMP_PREFIX}${TEMP_ID}${(tempCount++).toString(16).padStart(4, '0')}`);
  let created = false;
  try {
    const handle = await open(temp, CREATE_FLAGS, 0o666);
    created = true;
    try {
      // FileHandle.writeFile loops until every byte is written (a single write() may write fewer).
      await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    return { path: target, sha256 };
  } catch (err) {
    if (created) await unlink(temp).catch(() => {});
    throw writeError(relPath, osCode(err), osDescription(err), err);
  }
}
