import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/**
 * A deleted device's store, once its connection closed with nothing left to deliver: its directory
 * goes, and so do the directories above it that held only it (onenet-store/<product>/ under the user
 * directory, see storeDirOf), so deleting the last device leaves nothing behind. Only empty
 * directories are removed (rmdir), never a file, and never `top` itself or anything outside it.
 *
 * Returns 'kept' when the store's directory still holds files (values the store could not read, or
 * files someone else put there): the caller says so, as it does for a store that holds values.
 */
export async function removeEmptyStore(dir: string, top: string): Promise<'removed' | 'kept'> {
  if (!inside(dir, top)) return 'kept';
  try {
    await fsp.rmdir(dir);
  } catch (err) {
    if (code(err) !== 'ENOENT') return 'kept';
  }
  for (let parent = path.dirname(dir); inside(parent, top); parent = path.dirname(parent)) {
    try {
      await fsp.rmdir(parent);
    } catch (err) {
      if (code(err) !== 'ENOENT') break; // another device's store is in it (ENOTEMPTY), or it is not ours
    }
  }
  return 'removed';
}

/** `dir` is strictly below `top`. */
function inside(dir: string, top: string): boolean {
  const relative = path.relative(top, dir);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}
