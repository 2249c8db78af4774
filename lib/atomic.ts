import { open, rename, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

/** fsync a directory so a rename inside it survives a power loss. */
export async function fsyncDir (dir: string): Promise<void> {
  const fd = await open(dir, 'r')
  try { await fd.sync() } finally { await fd.close() }
}

/** Name of a temp file next to `file`: `.<name>.tmp-<pid>-<rand>` (readers ignore these). */
export function tempNameFor (file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

export interface AtomicWriteHooks {
  /** Called after the temp file is durable and before it replaces the target (tests inject crashes here). */
  beforeRename?: (temp: string) => Promise<void> | void
}

/**
 * Replaces `file` with `data` so that a crash at any point leaves either the old or the new
 * content (spec pools-provisioning-catalog.md §4.5): temp file in the same directory, fsync,
 * rename over the target, fsync the directory.
 */
export async function writeFileAtomic (file: string, data: string | Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  const temp = tempNameFor(file)
  try {
    const fd = await open(temp, 'wx', 0o644)
    try {
      await fd.writeFile(data)
      await fd.sync()
    } finally { await fd.close() }
    await hooks.beforeRename?.(temp)
    await rename(temp, file)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  await fsyncDir(dirname(file))
}

/** Deterministic serialisation of an index file: sorted keys, 2-space indent, trailing newline. */
export function stableStringify (value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`
}

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>
    return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortKeys(obj[k])]))
  }
  return value
}
