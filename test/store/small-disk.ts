import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small file system of its own (tmpfs), so a test can fill it up without filling the machine's. */
export interface SmallDisk {
  /** Its mount point, an empty directory. */
  dir: string;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeKb` KB on a new directory; needs root (CAP_SYS_ADMIN) on Linux. Resolves
 * with the reason instead when it cannot (another platform, no permission).
 */
export async function mountSmallDisk(sizeKb: number): Promise<SmallDisk | { reason: string }> {
  if (process.platform !== 'linux')
    return { reason: `tmpfs mounts need Linux (this is ${process.platform})` };
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  } catch (err) {
    await fsp.rmdir(dir).catch(() => undefined);
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    return { reason: `cannot mount a tmpfs: ${stderr || (err as Error).message}` };
  }
  return {
    dir,
    unmount: async () => {
      await run('umount', [dir]);
      await fsp.rmdir(dir);
    },
  };
}

/**
 * In before(): the small disk, or the suite skipped with the reason printed. Under CI (CI=true) a
 * disk that cannot be mounted fails the suite instead, so the full-disk tests never go missing there.
 */
export async function smallDiskOrSkip(context: Mocha.Context, sizeKb: number): Promise<SmallDisk> {
  const disk = await mountSmallDisk(sizeKb);
  if ('dir' in disk) return disk;
  if (process.env.CI === 'true') throw new Error(`CI: the full-disk tests must run: ${disk.reason}`);
  console.log(`      (skipped: ${disk.reason})`);
  context.skip();
}

/** Fills the disk with a file of `bytes`, to be deleted to free the space again. */
export async function writeFiller(dir: string, bytes: number): Promise<string> {
  const file = path.join(dir, 'filler');
  await fsp.writeFile(file, Buffer.alloc(bytes, 0x5a));
  return file;
}

/** Bytes still free on the file system of `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await fsp.statfs(dir);
  return stats.bavail * stats.bsize;
}
