import { readFileSync, statSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { stableStringify, writeFileAtomic } from '../atomic.js'
import { CatalogError } from './errors.js'

export const SCHEMA_VERSION = 1

/**
 * One versioned index file `{schema_version: 1, entries: {…}}` (D14). Reads are lock-free
 * and cheap: the parsed view is cached and re-read only when the file's identity (inode,
 * size, mtime) changes, which an atomic rename always does. A file with a missing or unknown
 * `schema_version` is refused (SchemaVersionMismatch) and never overwritten (§4.6).
 * Entries are held in a Map, so ids such as `__proto__` or `constructor` are plain keys and
 * never reach an object prototype (issue 10 #3).
 */
export class IndexFile<E> {
  private key = ''
  private loaded = false
  private entries: Map<string, E> = new Map()
  readonly path: string
  /** Called when a re-read finds content another writer put there (not on the first read). */
  private readonly onReload: ((prev: ReadonlyMap<string, E>, next: ReadonlyMap<string, E>) => void) | undefined

  constructor (path: string, onReload?: (prev: ReadonlyMap<string, E>, next: ReadonlyMap<string, E>) => void) {
    this.path = path
    this.onReload = onReload
  }

  get name (): string { return basename(this.path) }

  /** The current entries (a shared view: callers must not mutate it). */
  read (force = false): ReadonlyMap<string, E> {
    const key = identity(this.path)
    if (force || key !== this.key) {
      const prev = this.entries
      this.entries = key === 'missing' ? new Map() : this.parse(readFileSync(this.path, 'utf8'))
      this.key = key
      if (this.loaded) this.onReload?.(prev, this.entries)
      this.loaded = true
    }
    return this.entries
  }

  /** Re-reads from disk whatever the cache says (used under the writer lock). */
  readFresh (): Map<string, E> {
    return structuredClone(this.read(true) as Map<string, E>)
  }

  async write (entries: Map<string, E>, beforeRename?: () => Promise<void>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true })
    // Object.fromEntries defines own properties: a "__proto__" id is written as a key
    await writeFileAtomic(this.path, stableStringify({ schema_version: SCHEMA_VERSION, entries: Object.fromEntries(entries) }), { beforeRename })
    this.entries = entries
    this.key = identity(this.path)
  }

  private parse (text: string): Map<string, E> {
    let doc: unknown
    try { doc = JSON.parse(text) } catch (err) {
      throw new CatalogError(
        'Serde',
        `${this.path} is not valid JSON (${(err as Error).message}); it is left untouched. Restore it from a backup or move it aside`,
        { file: this.path }
      )
    }
    const found = (doc as { schema_version?: unknown } | null)?.schema_version
    if (found !== SCHEMA_VERSION) {
      throw new CatalogError('SchemaVersionMismatch',
        `${this.path} has schema_version ${found === undefined ? '(none)' : JSON.stringify(found)}, this build supports ${SCHEMA_VERSION}; ` +
        'the file is left untouched. Move it aside (or migrate it explicitly) to start a fresh catalog',
        { file: this.path, found: found ?? null, supported: SCHEMA_VERSION })
    }
    const entries = (doc as { entries?: unknown }).entries
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw new CatalogError('Serde', `${this.path} has no "entries" object; it is left untouched`, { file: this.path })
    }
    // JSON.parse keeps a "__proto__" key as an own key, and Object.entries reads own keys only
    return new Map(Object.entries(entries as Record<string, E>))
  }
}

function identity (path: string): string {
  try {
    const st = statSync(path)
    return `${st.ino}:${st.size}:${st.mtimeMs}`
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
}
