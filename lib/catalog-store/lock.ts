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

function alive (pid: number): boolean {
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
 * half-written. Breaking renames the stale file away and checks it was the stale one,
 * putting a live holder's file back otherwise; holders re-check `stillHeld()` before they
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
      if (isStale(current, foreignStaleMs)) { await breakStale(file, current.ino, token); continue }
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
  if (holder.host === HOST) return !alive(holder.pid)
  return Date.now() - holder.acquired_ms > foreignStaleMs
}

async function breakStale (file: string, staleIno: number, token: string): Promise<void> {
  const aside = `${file}.break-${token}`
  try { await rename(file, aside) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  const moved = await readHolder(aside)
  if (moved !== null && moved.ino !== staleIno) {
    // we took a live holder's file: put it back unless someone locked in between
    await link(aside, file).catch(() => {})
  } else if (moved?.holder?.token) {
    await unlink(`${file}.${moved.holder.token}`).catch(() => {})
  }
  await unlink(aside).catch(() => {})
}

/** Runs `fn` under the lock; the lock is released whatever happens. */
export async function withLock<T> (file: string, opts: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, opts)
  try { return await fn(lock) } finally { await lock.release() }
}
