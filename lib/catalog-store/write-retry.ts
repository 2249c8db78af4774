import { CatalogError, isCatalogError } from './errors.js'

/** How often a catalog write whose lock was taken over is tried in all before it fails Busy. */
export const WRITE_ATTEMPTS = 5

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The lock was taken over between this writer's read and its commit: nothing was written. */
export const lockLost = (lockFile: string): CatalogError =>
  new CatalogError('Busy', `the catalog lock at ${lockFile} was taken over while writing; nothing was written, retry`, { lock_lost: true })

export const isLockLost = (err: unknown): boolean => isCatalogError(err, 'Busy') && err.details.lock_lost === true

const queues = new Map<string, Promise<unknown>>()

/**
 * Runs `fn` after every earlier call with the same key in this process has settled, so the
 * writers of one process never race each other for (or to break) the cross-process lock.
 */
export function serialised<T> (key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve()
  const run = previous.then(fn, fn)
  const tail = run.catch(() => {})
  queues.set(key, tail)
  void tail.then(() => { if (queues.get(key) === tail) queues.delete(key) })
  return run
}
