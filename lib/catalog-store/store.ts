import { existsSync, readdirSync } from 'node:fs'
import { rm, rmdir } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { CatalogError } from './errors.js'
import { IndexFile } from './index-file.js'
import { withLock, type LockOptions } from './lock.js'
import { removeLeftovers } from './leftovers.js'
import { assertModelId } from './ids.js'
import { isLockLost, lockLost, serialised, sleep, WRITE_ATTEMPTS } from './write-retry.js'
import { assertInside, isInside, parseRef, refId } from './model-ref.js'
import { LIFECYCLES, type CatalogEvent, type EngineEntry, type Lifecycle, type ModelEntry, type ResolvedModel } from './entries.js'

export interface StoreOptions {
  /** Test hook: runs after the temp file is durable and before it replaces the index. */
  beforeRename?: () => Promise<void> | void
  lock?: LockOptions
  now?: () => number
}

export interface DeleteResult {
  deleted: boolean
  /** What happened to the artifact: removed, kept because the catalog does not own it, or none. */
  artifact?: 'removed' | 'external' | 'none'
  artifact_error?: string
}

export type Listener = (event: CatalogEvent) => void

/**
 * The catalog store (spec §4): `index.json` (models) and `engines.json` (engine builds)
 * under one root, each versioned and written atomically under a cross-process writer lock
 * with read-modify-write, so concurrent writers never lose each other's entries.
 * Entries are Maps (issue 10 #3); ids are validated on every write (issue 10 #11).
 */
export class CatalogStore {
  readonly root: string
  readonly models: IndexFile<ModelEntry>
  readonly engines: IndexFile<EngineEntry>
  readonly lockFile: string
  private readonly listeners = new Set<Listener>()
  private readonly now: () => number
  private readonly opts: StoreOptions
  private swept = false

  constructor (root: string, opts: StoreOptions = {}) {
    this.opts = opts
    this.root = resolve(root)
    this.models = new IndexFile(join(this.root, 'index.json'), (before, after) => { this.diff(before, after) })
    this.engines = new IndexFile(join(this.root, 'engines.json'))
    this.lockFile = join(this.root, '.catalog.lock')
    this.now = opts.now ?? Date.now
  }

  /** Reads both files once: throws SchemaVersionMismatch / Serde for either, independently. */
  open (): this {
    this.models.read()
    this.engines.read()
    return this
  }

  get (id: string): ModelEntry | undefined { return this.models.read().get(id) }

  /** Every model entry, ordered by id. */
  list (): ModelEntry[] {
    const all = this.models.read()
    return [...all.keys()].sort().map((id) => all.get(id)!)
  }

  /** The catalog id an id or a model ref resolves to, when the catalog has it. */
  resolveId (idOrRef: string): string | undefined {
    const all = this.models.read()
    if (all.has(idOrRef)) return idOrRef
    try {
      const id = refId(parseRef(idOrRef, this.root))
      return all.has(id) ? id : undefined
    } catch { return undefined }
  }

  exists (idOrRef: string): boolean { return this.resolveId(idOrRef) !== undefined }

  /** `Active`/`Retired` for a catalog id or ref; undefined when the catalog does not know it. */
  lifecycle (idOrRef: string): Lifecycle | undefined {
    const id = this.resolveId(idOrRef)
    return id === undefined ? undefined : this.get(id)!.lifecycle
  }

  /** The Active entry of a ref whose artifact exists on disk, or null (§3.3 step 2). */
  locate (idOrRef: string): ResolvedModel | null {
    const id = this.resolveId(idOrRef)
    const e = id === undefined ? undefined : this.get(id)
    if (e === undefined || e.lifecycle !== 'Active' || e.local_path === null || !existsSync(e.local_path)) return null
    return { id: e.id, local_path: e.local_path, digest: e.digest, lifecycle: e.lifecycle }
  }

  /** Inserts or replaces a model entry by id (atomic). Paths are checked first (§4.8). */
  async put (entry: ModelEntry): Promise<ModelEntry> {
    const checked = this.checkEntry(entry)
    await this.mutate(this.models, (all) => { all.set(checked.id, checked) })
    this.emit({ type: 'put', id: checked.id, entry: checked })
    return checked
  }

  /** Applies `fn` to the entry under the lock (read-modify-write); NotFound if missing. */
  async update (id: string, fn: (entry: ModelEntry) => ModelEntry): Promise<ModelEntry> {
    const updated = await this.mutate(this.models, (all) => {
      const current = all.get(id)
      if (current === undefined) throw notFound(id)
      const next = this.checkEntry({ ...fn(current), id, updated_ms: this.now() })
      all.set(id, next)
      return next
    })
    this.emit({ type: 'put', id, entry: updated })
    return updated
  }

  async setState (id: string, state: Lifecycle, deadlineMs?: number): Promise<ModelEntry> {
    if (!LIFECYCLES.includes(state)) throw new CatalogError('InvalidEntry', `state must be Active or Retired, got ${JSON.stringify(state)}`)
    let previous: Lifecycle = state
    const updated = await this.mutate(this.models, (all) => {
      const current = all.get(id)
      if (current === undefined) throw notFound(id)
      previous = current.lifecycle
      const next: ModelEntry = { ...current, lifecycle: state, updated_ms: this.now() }
      all.set(id, next)
      return next
    })
    this.emit({ type: 'state', id, state, previous, ...(deadlineMs !== undefined ? { deadline_ms: deadlineMs } : {}) })
    return updated
  }

  /**
   * Removes the entry first, then (best effort) the artifact, and only when the catalog
   * staged it below its root; a `file:` model is never deleted (D10, ORCH-3315).
   */
  async delete (id: string): Promise<DeleteResult> {
    const removed = await this.mutate(this.models, (all) => {
      const e = all.get(id)
      all.delete(id)
      return e
    })
    if (removed === undefined) return { deleted: false }
    this.emit({ type: 'delete', id })
    const path = removed.local_path
    if (path === null) return { deleted: true, artifact: 'none' }
    if (removed.owned !== true || !isInside(this.root, path) || resolve(path) === this.root || this.isCatalogFile(path)) {
      return { deleted: true, artifact: 'external' }
    }
    try {
      await rm(path, { recursive: true, force: true })
      await this.pruneEmptyParents(dirname(path))
      return { deleted: true, artifact: 'removed' }
    } catch (err) {
      return { deleted: true, artifact: 'none', artifact_error: `could not remove ${path}: ${(err as Error).message}` }
    }
  }

  getEngine (id: string): EngineEntry | undefined { return this.engines.read().get(id) }

  listEngines (filter: { engine?: string, version?: string } = {}): EngineEntry[] {
    const all = this.engines.read()
    return [...all.keys()].sort().map((id) => all.get(id)!)
      .filter((e) => (filter.engine === undefined || e.engine === filter.engine) && (filter.version === undefined || e.version === filter.version))
  }

  /** Inserts or replaces an engine build (idempotent for an identical id, §2.8). */
  async putEngine (entry: EngineEntry): Promise<EngineEntry> {
    if (typeof entry.id !== 'string' || entry.id === '' || typeof entry.engine !== 'string' || typeof entry.version !== 'string') {
      throw new CatalogError('InvalidEntry', 'an engine entry needs string id, engine and version')
    }
    await this.mutate(this.engines, (all) => { all.set(entry.id, entry) })
    return entry
  }

  subscribe (listener: Listener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Re-reads index.json when it changed, so subscribers hear of another process's writes. */
  poll (): void { this.models.read() }

  private diff (before: ReadonlyMap<string, ModelEntry>, after: ReadonlyMap<string, ModelEntry>): void {
    for (const [id, e] of after) {
      const old = before.get(id)
      if (old === undefined) this.emit({ type: 'put', id, entry: e })
      else if (old.lifecycle !== e.lifecycle) this.emit({ type: 'state', id, state: e.lifecycle, previous: old.lifecycle })
    }
    for (const id of before.keys()) if (!after.has(id)) this.emit({ type: 'delete', id })
  }

  private emit (event: CatalogEvent): void {
    for (const l of this.listeners) {
      try { l(event) } catch { /* a listener's failure is its own */ }
    }
  }

  /**
   * Removes what killed writers left (stale lock records, temp copies of the index files)
   * under the writer lock, and returns their names. The first write of each store does it
   * too, so the CLI cleans up as well as the server (issue 10 #5).
   */
  async recover (): Promise<string[]> {
    return serialised(this.lockFile, () => withLock(this.lockFile, this.lockOptions(), () => this.sweep()))
  }

  private async sweep (): Promise<string[]> {
    this.swept = true
    if (!existsSync(this.root)) return []
    return removeLeftovers(this.root, basename(this.lockFile), [this.models.name, this.engines.name])
  }

  private lockOptions (): LockOptions { return { what: `the catalog at ${this.root}`, ...this.opts.lock } }

  /**
   * Read-modify-write under the lock. Writers of this process take turns before they touch
   * the lock file; a write whose lock was taken over before its commit (a stale-lock breaker
   * on another host) is retried from a fresh read, a few times with a short backoff, instead
   * of failing the caller (issue 10 #5).
   */
  private async mutate<E, R> (file: IndexFile<E>, fn: (entries: Map<string, E>) => R): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await serialised(this.lockFile, () => withLock(this.lockFile, this.lockOptions(), async (lock) => {
          // a cleanup that cannot remove a file must not fail the write it rides on
          if (!this.swept) await this.sweep().catch(() => [])
          const entries = file.readFresh()
          const result = fn(entries)
          await file.write(entries, async () => {
            await this.opts.beforeRename?.()
            if (!await lock.stillHeld()) throw lockLost(this.lockFile)
          })
          return result
        }))
      } catch (err) {
        if (!isLockLost(err) || attempt >= WRITE_ATTEMPTS) throw err
        await sleep(5 * 2 ** attempt)
      }
    }
  }

  private checkEntry (entry: ModelEntry): ModelEntry {
    assertModelId(entry.id)
    if (!LIFECYCLES.includes(entry.lifecycle)) {
      throw new CatalogError('InvalidEntry', `lifecycle must be Active or Retired, got ${JSON.stringify(entry.lifecycle)}`)
    }
    if (entry.local_path === null || entry.local_path === undefined) return { ...entry, local_path: null }
    if (entry.local_path.split(/[\\/]/).includes('..')) {
      throw new CatalogError('PathTraversal', `local_path ${entry.local_path} contains ".."; give a normalised path`, { path: entry.local_path })
    }
    const abs = resolve(this.root, entry.local_path)
    // only file: models may live outside the root (they are external, never deleted)
    if (!entry.id.startsWith('file:') || entry.owned === true) assertInside(this.root, abs, `the artifact of ${entry.id}`)
    return { ...entry, local_path: abs }
  }

  private isCatalogFile (path: string): boolean {
    return [this.models.path, this.engines.path].includes(resolve(path)) || resolve(path).startsWith(this.lockFile)
  }

  private async pruneEmptyParents (dir: string): Promise<void> {
    while (isInside(this.root, dir) && resolve(dir) !== this.root) {
      if (!existsSync(dir) || readdirSync(dir).length > 0) return
      await rmdir(dir)
      dir = dirname(dir)
    }
  }
}

const notFound = (id: string): CatalogError => new CatalogError(
  'NotFound',
  `no model ${JSON.stringify(id)} in the catalog; \`llama-orch models list\` shows what it holds`,
  { id }
)
