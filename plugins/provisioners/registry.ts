import type { EngineBuild, Provisioner, ProvisionerRegistry, ProvisioningMode, ProvisioningPolicy } from '../../sdk/index.js'
import { ORC_ERR_PROVISIONERS_DUPLICATE } from './errors.js'

/** `recordEngine` writes the engine catalog (the provisioners stage hands in `app.catalog.recordEngine`). */
export const CLOSED_POLICY: ProvisioningPolicy = {
  allow_outbound_network: false, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: false,
}

export function createProvisionerRegistry (
  recordEngine: (build: EngineBuild) => Promise<string>,
  policy: ProvisioningPolicy = CLOSED_POLICY
): ProvisionerRegistry {
  const byName = new Map<string, Provisioner>()
  return {
    policy,
    add (p) {
      if (byName.has(p.name)) throw new ORC_ERR_PROVISIONERS_DUPLICATE(p.name)
      byName.set(p.name, p)
    },
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    providerFor (engine: string, mode: ProvisioningMode) {
      // an exact engine match wins over a provider that handles any engine in that mode
      const all = [...byName.values()]
      return all.find((p) => p.handles.some((h) => h.engine === engine && h.mode === mode)) ??
        all.find((p) => p.handles.some((h) => h.engine === '*' && h.mode === mode))
    },
    recordEngine,
  }
}
