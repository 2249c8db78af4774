import { readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { holderIsDead, pidIsAlive } from './lock.js'

/**
 * Files a killed writer leaves next to the catalog (issue 10 #5): the waiter/holder records
 * `<lock>.<pid>-<hex>`, break-asides `<lock>[.guard].break-<pid>-<hex>`, the breakers' guard
 * `<lock>.guard`, and temp copies `.<index>.tmp-<pid>-<hex>` of the index files. Call it while holding the catalog lock:
 * then no writer is between its temp write and its rename. A file is removed only when the
 * process named in it is gone (a record naming another host is kept); returns the names.
 */
export async function removeLeftovers (dir: string, lockName: string, indexNames: readonly string[]): Promise<string[]> {
  const lock = escape(lockName)
  const holderRe = new RegExp(`^${lock}\\.(\\d+)-[0-9a-f]+$`)
  const asideRe = new RegExp(`^${lock}(?:\\.guard)?\\.break-(\\d+)-[0-9a-f]+$`)
  const tempRe = new RegExp(`^\\.(?:${indexNames.map(escape).join('|')})\\.tmp-(\\d+)-[0-9a-f]+$`)
  const removed: string[] = []
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name === `${lockName}.guard`) {
      if (await recordIsDead(join(dir, name), false)) await remove(dir, name, removed)
      continue
    }
    const holder = holderRe.exec(name)
    const pid = Number((holder ?? asideRe.exec(name) ?? tempRe.exec(name))?.[1] ?? NaN)
    if (!Number.isInteger(pid) || pid === process.pid || pidIsAlive(pid)) continue
    if (holder !== null && !await recordIsDead(join(dir, name), true)) continue
    await remove(dir, name, removed)
  }
  return removed
}

async function remove (dir: string, name: string, removed: string[]): Promise<void> {
  try {
    await unlink(join(dir, name))
    removed.push(name)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/**
 * A holder record says which host it belongs to. One that cannot be read was cut short by a
 * kill (`unreadable`: what to assume then; a guard being written right now reads empty too).
 */
async function recordIsDead (file: string, unreadable: boolean): Promise<boolean> {
  let record: { pid?: unknown, host?: unknown } | null = null
  try { record = JSON.parse(await readFile(file, 'utf8')) as typeof record } catch { return unreadable }
  return holderIsDead(record)
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
