import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FetchError } from '../src/errors.js';

// Disk-full and rename failures cannot be provoked for real as root on a tmpfs, so the file system calls the writer
// uses are wrapped: a file name decides which call fails, and with which OS error.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const osError = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: ${message}, write`), { code });
  return {
    ...real,
    async open(...args: Parameters<typeof real.open>) {
      const handle = await real.open(...args);
      if (String(args[0]).includes(join('disk-full', '.volley-tmp-'))) {
        const writeFile = handle.writeFile.bind(handle);
        handle.writeFile = async (data) => {
          // Half the body reaches the disk, then the disk is full.
          await writeFile((data as Uint8Array).subarray(0, 10));
          throw osError('ENOSPC', 'no space left on device');
        };
      }
      return handle;
    },
    async rename(from: string, to: string) {
      if (to.endsWith('rename-fails')) throw osError('EXDEV', 'cross-device link not permitted');
      return real.rename(from, to);
    },
  };
});

const { writeFileAtomic } = await import('../src/keep/atomic-write.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'volley-keep-fail-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic when the file system fails', () => {
  it('removes the half-written temporary file on a full disk and reports WRITE with ENOSPC', async () => {
    const err = await writeFileAtomic(dir, 'disk-full/big.bin', new Uint8Array(1000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).code).toBe('WRITE');
    expect((err as FetchError).message).toBe('could not write "disk-full/big.bin" (ENOSPC): no space left on device');
    expect(await readdir(join(dir, 'disk-full'))).toEqual([]);
  });

  it('removes the temporary file when the rename fails, and leaves no file under the final name', async () => {
    const err = await writeFileAtomic(dir, 'a/rename-fails', new Uint8Array(5)).catch((e: unknown) => e);
    expect((err as FetchError).code).toBe('WRITE');
    expect((err as FetchError).message).toBe('could not write "a/rename-fails" (EXDEV): cross-device link not permitted');
    expect(await readdir(join(dir, 'a'))).toEqual([]);
  });

  it('still writes other files afterwards', async () => {
    const { sha256 } = await writeFileAtomic(dir, 'a/fine', new Uint8Array([1, 2, 3]));
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await readdir(join(dir, 'a'))).toEqual(['fine']);
  });
});
