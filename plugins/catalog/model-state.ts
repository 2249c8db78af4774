import type { Gauge } from 'prom-client'
import { LIFECYCLES, type ModelEntry } from '../../lib/catalog-store/entries.js'

/**
 * Most models `model_state{model_id,state}` reports (issue 10 #4): the metrics contract's
 * `model_id` budget (spec adapters-observability-testing §5.2, LABEL_BUDGETS.model_id; a
 * test keeps the two equal), so a scrape stays within what `llama-orch metrics lint` allows
 * however many models clients add to the catalog.
 */
export const MODEL_STATE_MAX_MODELS = 1024

/**
 * The models that get series, deterministically: Active ones before Retired ones (those are
 * what serves or can serve), each group by id; the rest are left out of the scrape.
 */
export function reportedModels (entries: readonly ModelEntry[], max = MODEL_STATE_MAX_MODELS): ModelEntry[] {
  const rank = (e: ModelEntry): number => (e.lifecycle === 'Active' ? 0 : 1)
  return [...entries].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, max)
}

export interface ModelStateGauge {
  /** Asks for a refresh; many changes in one tick (a reload of another process's writes) cost one. */
  changed (): void
  /** Number of catalog models without series at the last refresh. */
  readonly omitted: number
}

/**
 * Keeps `model_state` equal to the lifecycle of the reported models: 1 for the state a model
 * is in, 0 for the other. The gauge is rebuilt from the catalog in one synchronous step, so
 * a scrape never sees a half-updated set and a model pushed out of the set loses its series.
 */
export function modelStateGauge (
  gauge: Gauge<'model_id' | 'state'> | undefined,
  list: () => ModelEntry[],
  o: { max?: number, onCapped?: (omitted: number, total: number) => void } = {}
): ModelStateGauge {
  const max = o.max ?? MODEL_STATE_MAX_MODELS
  let pending = false
  let omitted = 0
  const refresh = (): void => {
    pending = false
    if (gauge === undefined) return
    const all = list()
    const shown = reportedModels(all, max)
    const before = omitted
    omitted = all.length - shown.length
    // said once each time the catalog grows past the cap, not on every change
    if (omitted > 0 && before === 0) o.onCapped?.(omitted, all.length)
    gauge.reset()
    for (const e of shown) for (const s of LIFECYCLES) gauge.set({ model_id: e.id, state: s }, s === e.lifecycle ? 1 : 0)
  }
  refresh()
  return {
    changed () {
      if (pending) return
      pending = true
      queueMicrotask(refresh)
    },
    get omitted () { return omitted },
  }
}
