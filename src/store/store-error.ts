/**
 * The one error the store fails with, whatever went wrong underneath, so the post it was for fails
 * with a reason a Catch node can tell ('store') and a message that names the directory and the cause.
 */

/** The store cannot be used (unwritable directory, full disk): the post it was for fails with it. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** The StoreError for a file-system error, in words a user can act on (and its code). */
export function storeError(dir: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOSPC'
      ? 'no space left on the device'
      : code === 'EDQUOT'
        ? 'disk quota exceeded'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : code === 'ENOTDIR' || code === 'EEXIST'
              ? 'the path is not a directory'
              : String((err as Error)?.message ?? err);
  return new StoreError(`cannot write the store in ${dir}: ${why}${code ? ` (${code})` : ''}`, code);
}
