import { isDeepStrictEqual } from 'node:util'
import type { Metrics } from '../metrics/index.js'
import type { Narrator } from '../narration/index.js'
import type { CatalogConfig } from './schema.js'
import type { CatalogStore, DeleteResult, Listener } from '../../lib/catalog-store/store.js'
import { engineEntryId, type EngineEntry, type Lifecycle, type ModelEntry, type ResolvedModel } from '../../lib/catalog-store/entries.js'
import { verifyEntry } from './service.js'
import { modelStateGauge } from './model-state.js'

/** `app.catalog`: the store API plus lifecycle answers for admission and verification. */
export interface Catalog {
  /** Absolute catalog root: index.json, engines.json and staged artifacts live below it. */
  readonly root: string
  readonly trustPolicy: CatalogConfig['trust_policy']
  readonly store: CatalogStore
  get (id: string): ModelEntry | undefined
  /** All model entries, ordered by id. */
  list (): ModelEntry[]
  exists (idOrRef: string): boolean
  locate (idOrRef: string): ResolvedModel | null
  /**
   * Lifecycle of a model named by catalog id or model ref; undefined when the catalog does
   * not know it. Synchronous and cheap (a stat): admission calls it to answer MODEL_DEPRECATED.
   */
  lifecycle (idOrRef: string): Lifecycle | undefined
  put (entry: ModelEntry): Promise<ModelEntry>
  update (id: string, fn: (entry: ModelEntry) => ModelEntry): Promise<ModelEntry>
  /** Active ⇄ Retired; `deadlineMs` is passed on to subscribers (pool drain deadline). */
  setState (id: string, state: Lifecycle, deadlineMs?: number): Promise<ModelEntry>
  delete (id: string): Promise<DeleteResult>
  /** Re-hashes the artifact against the recorded digest and counts the outcome. */
  verify (id: string, o?: { engine?: string }): Promise<ModelEntry>
  putEngine (entry: EngineEntry): Promise<EngineEntry>
  /**
   * What an engine provisioner calls after a build, pull or install (spec §2.8): writes the
   * EngineEntry unless an identical one is already there, and returns its id.
   */
  recordEngine (build: Omit<EngineEntry, 'id' | 'created_ms'>): Promise<string>
  getEngine (id: string): EngineEntry | undefined
  listEngines (filter?: { engine?: string, version?: string }): EngineEntry[]
  /** put / state / delete events, from this process and (polled each second) from others. */
  subscribe (listener: Listener): () => void
  close (): void
}

export interface CatalogDeps {
  trustPolicy: CatalogConfig['trust_policy']
  metrics?: Pick<Metrics, 'model_state' | 'catalog_verifications_total'>
  narrate?: Narrator['narrate']
}

export function createCatalog (store: CatalogStore, deps: CatalogDeps): Catalog {
  // bounded: at most MODEL_STATE_MAX_MODELS models get series (issue 10 #4)
  const gauge = modelStateGauge(deps.metrics?.model_state, () => store.list(), {
    onCapped: (omitted, total) => deps.narrate?.(
      { actor: 'catalog', action: 'metrics_cap', target: 'model_state', omitted, total },
      `reports model_state for ${total - omitted} of ${total} catalog models (the metrics contract's model_id budget); Active models first, then by id`,
      'warn'
    ),
  })
  const unsubscribe = store.subscribe((ev) => {
    gauge.changed()
    if (ev.type === 'state') {
      if (ev.state !== ev.previous) {
        deps.narrate?.({ actor: 'catalog', action: 'state', target: ev.id, state: ev.state, previous: ev.previous }, `sets model ${ev.id} ${ev.state}`)
      }
    } else if (ev.type === 'delete') {
      deps.narrate?.({ actor: 'catalog', action: 'delete', target: ev.id }, `deletes model ${ev.id}`)
    }
  })
  return {
    root: store.root,
    trustPolicy: deps.trustPolicy,
    store,
    get: (id) => store.get(id),
    list: () => store.list(),
    exists: (x) => store.exists(x),
    locate: (x) => store.locate(x),
    lifecycle: (x) => store.lifecycle(x),
    put: (e) => store.put(e),
    update: (id, fn) => store.update(id, fn),
    setState: (id, s, d) => store.setState(id, s, d),
    delete: (id) => store.delete(id),
    async verify (id, o = {}) {
      const entry = await verifyEntry(store, id, {
        policy: deps.trustPolicy,
        ...(deps.metrics ? { counter: deps.metrics.catalog_verifications_total } : {}),
        ...o,
      })
      const v = entry.verification!
      deps.narrate?.(
        { actor: 'catalog', action: 'verify', target: id, result: v.result, reason: v.reason },
        `verifies model ${id}: ${v.result} (${v.reason})`,
        v.result === 'fail' ? 'warn' : 'info'
      )
      return entry
    },
    putEngine: (e) => store.putEngine(e),
    async recordEngine (build) {
      const id = engineEntryId(build.engine, build.version, build.digest)
      const old = store.getEngine(id)
      const same = old !== undefined && isDeepStrictEqual({ ...old, created_ms: 0 }, { id, ...build, created_ms: 0 })
      // re-preparing the same build (every restart) must not rewrite engines.json each time
      if (!same) await store.putEngine({ id, ...build, created_ms: old?.created_ms ?? Date.now() })
      return id
    },
    getEngine: (id) => store.getEngine(id),
    listEngines: (f) => store.listEngines(f),
    subscribe: (l) => store.subscribe(l),
    close: unsubscribe,
  }
}
