import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { CatalogError } from './errors.js'

/** What a lock file says about its holder. */
interface Holder { pid: number, host: string, token: string, acquired_ms: number }

export interface LockOptions {
  /** Give up (Busy) after waiting this long; default 10 s. */
  waitMs?: number
  /** A holder on another host is presumed dead after this long; default 60 s. */
  foreignStaleMs?: number
  signal?: AbortSignal
  /** What the lock protects, for the Busy message. */
  what?: string
}

export interface HeldLock {
  /** True while the lock file is still the one this holder created (checked before a commit). */
  stillHeld (): Promise<boolean>
  release (): Promise<void>
}

const HOST = hostname()

/** True while a process with this pid exists on this host (EPERM: it exists, as another user). */
export function pidIsAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

async function readHolder (file: string): Promise<{ holder: Holder | null, ino: number, mtimeMs: number } | null> {
  try {
    const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)])
    let holder: Holder | null = null
    try { holder = JSON.parse(text) as Holder } catch { holder = null }
    return { holder, ino: st.ino, mtimeMs: st.mtimeMs }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A cross-process writer lock on `file` (e.g. `<root>/.catalog.lock`), released by its
 * holder or, when the holder died (SIGKILL, crash), broken by the next writer at once: a
 * holder on this host is dead when its pid no longer exists; one on another host after
 * `foreignStaleMs`. Acquisition is `link(own file, lock)`, so the lock file is never seen
 * half-written. Breaking is done under a guard file taken with O_EXCL (see breakStale), so
 * a live holder's lock is never removed; holders still re-check `stillHeld()` before they
 * commit, so a writer never overwrites work it did not see.
 */
export async function acquireLock (file: string, opts: LockOptions = {}): Promise<HeldLock> {
  const waitMs = opts.waitMs ?? 10_000
  const foreignStaleMs = opts.foreignStaleMs ?? 60_000
  const token = `${process.pid}-${randomBytes(6).toString('hex')}`
  const own = `${file}.${token}`
  const me: Holder = { pid: process.pid, host: HOST, token, acquired_ms: Date.now() }
  await mkdir(dirname(file), { recursive: true })
  await writeFile(own, JSON.stringify(me))
  const deadline = Date.now() + waitMs
  let delay = 2
  try {
    for (;;) {
      opts.signal?.throwIfAborted()
      try {
        await link(own, file)
        const ownIno = (await stat(own)).ino
        return {
          async stillHeld () { return (await readHolder(file))?.ino === ownIno },
          async release () {
            if ((await readHolder(file).catch(() => null))?.ino === ownIno) await unlink(file).catch(() => {})
            await unlink(own).catch(() => {})
          },
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const current = await readHolder(file)
      if (current === null) continue
      if (isStale(current, foreignStaleMs)) {
        if (await breakStale(file, current.ino, me, foreignStaleMs)) continue
      }
      if (Date.now() > deadline) {
        const who = current.holder ? `process ${current.holder.pid} on ${current.holder.host}` : 'another process'
        throw new CatalogError(
          'Busy',
          `${opts.what ?? file} is locked by ${who}; waited ${waitMs} ms. Retry, or remove ${file} if that process is gone`,
          { file }
        )
      }
      await sleep(delay)
      delay = Math.min(delay * 2, 50)
    }
  } catch (err) {
    await unlink(own).catch(() => {})
    throw err
  }
}

function isStale ({ holder, mtimeMs }: { holder: Holder | null, mtimeMs: number }, foreignStaleMs: number): boolean {
  // a lock file without a readable holder is never produced by link(); treat it as stale after a grace second
  if (holder === null || typeof holder.pid !== 'number') return Date.now() - mtimeMs > 1_000
  if (holder.host === HOST) return !pidIsAlive(holder.pid)
  return Date.now() - holder.acquired_ms > foreignStaleMs
}

/**
 * Removes the lock file when it is still the stale one seen (inode `staleIno`), and returns
 * true when the caller should try to link again at once. Only the holder of the guard
 * `<file>.guard` (created with O_EXCL) may remove a lock it did not create, and it re-reads
 * the lock under the guard: a dead holder cannot release and a live acquirer cannot link
 * over an existing file, so the file it checked is the file it unlinks. A guard is held for
 * two system calls; one left by a dead breaker is cleared the same way (rename aside, check
 * the inode, put a live one back).
 */
async function breakStale (file: string, staleIno: number, me: Holder, foreignStaleMs: number): Promise<boolean> {
  const guard = `${file}.guard`
  try {
    await writeFile(guard, JSON.stringify(me), { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const other = await readHolder(guard)
    if (other !== null && isStale(other, foreignStaleMs)) await clearAside(guard, other.ino, me.token)
    return false
  }
  const guardIno = (await stat(guard)).ino
  try {
    const now = await readHolder(file)
    if (now === null) return true
    if (now.ino !== staleIno || !isStale(now, foreignStaleMs)) return false
    await unlink(file).catch(ignoreMissing)
    // its own record too; the token is checked so a garbled lock file cannot name another path
    if (typeof now.holder?.token === 'string' && /^[\w-]+$/.test(now.holder.token)) await unlink(`${file}.${now.holder.token}`).catch(ignoreMissing)
    return true
  } finally {
    if ((await readHolder(guard).catch(() => null))?.ino === guardIno) await unlink(guard).catch(ignoreMissing)
  }
}

/** Moves `path` aside and deletes it if it is the inode `ino`; puts anything else back. */
async function clearAside (path: string, ino: number, token: string): Promise<void> {
  const aside = `${path}.break-${token}`
  try { await rename(path, aside) } catch (err) { ignoreMissing(err); return }
  const moved = await readHolder(aside)
  if (moved !== null && moved.ino !== ino) await link(aside, path).catch(() => {})
  await unlink(aside).catch(ignoreMissing)
}

function ignoreMissing (err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
}

/** True when the process named by a lock-related file (by its holder record) is gone. */
export function holderIsDead (holder: { pid?: unknown, host?: unknown } | null): boolean {
  return holder !== null && typeof holder.pid === 'number' && holder.host === HOST && !pidIsAlive(holder.pid)
}

/** Runs `fn` under the lock; the lock is released whatever happens. */
export async function withLock<T> (file: string, opts: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, opts)
  try { return await fn(lock) } finally { await lock.release() }
}
