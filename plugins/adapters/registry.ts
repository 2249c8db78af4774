import type { AdapterFactory, AdapterRegistry } from '../../sdk/index.js'

export function createAdapterRegistry (): AdapterRegistry {
  const byEngine = new Map<string, AdapterFactory>()
  return {
    add (factory) {
      if (byEngine.has(factory.engine)) {
        throw new Error(`llama-orch: engine "${factory.engine}" already has an adapter; enable only one adapter per engine`)
      }
      byEngine.set(factory.engine, factory)
    },
    get: (engine) => byEngine.get(engine),
    list: () => [...byEngine.values()],
    engines: () => [...byEngine.keys()],
  }
}
