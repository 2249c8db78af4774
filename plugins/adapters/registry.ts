import type { AdapterFactory, AdapterRegistry } from '../../sdk/index.js'
import { ORC_ERR_ADAPTERS_DUPLICATE_ENGINE } from './errors.js'

export function createAdapterRegistry (): AdapterRegistry {
  const byEngine = new Map<string, AdapterFactory>()
  return {
    add (factory) {
      if (byEngine.has(factory.engine)) {
        throw new ORC_ERR_ADAPTERS_DUPLICATE_ENGINE(factory.engine)
      }
      byEngine.set(factory.engine, factory)
    },
    get: (engine) => byEngine.get(engine),
    list: () => [...byEngine.values()],
    engines: () => [...byEngine.keys()],
  }
}
