/**
 * Pools that no enabled provider can start (issue 10 #14). Without this check such a pool
 * passed `config check` and then sat in Backoff forever; now `config check` and boot refuse
 * it, naming the pool's mode, what the enabled providers handle and what to enable.
 */
import type { Manifest } from './manifest.js'
import type { ProvisioningMode } from '../sdk/index.js'
import type { Issue } from '../lib/validation.js'
import type { ResolvedExtension } from './extensions.js'
import { modeOf } from '../plugins/pool/launch.js'
import { EMBEDDED_HANDLES } from '../extensions/provider-embedded/handles.js'
import { LLAMACPP_HANDLES } from '../extensions/provider-llamacpp/handles.js'
import { VLLM_HANDLES } from '../extensions/provider-vllm/handles.js'
import { TGI_HANDLES } from '../extensions/provider-tgi/handles.js'
import { TRITON_HANDLES } from '../extensions/provider-triton/handles.js'

type Handle = { readonly engine: string, readonly mode: ProvisioningMode }
export interface ProviderHandles { name: string, handles: readonly Handle[] }

/** What the built-in providers handle, to name the one to enable when it is not. */
export const BUILTIN_PROVIDER_HANDLES: readonly ProviderHandles[] = [
  { name: 'embedded', handles: EMBEDDED_HANDLES },
  { name: 'llamacpp', handles: LLAMACPP_HANDLES },
  { name: 'vllm', handles: VLLM_HANDLES },
  { name: 'tgi', handles: TGI_HANDLES },
  { name: 'triton', handles: TRITON_HANDLES },
]

const serves = (h: Handle, engine: string, mode: string): boolean => (h.engine === engine || h.engine === '*') && h.mode === mode
const describe = (p: ProviderHandles): string => `${p.name} (${p.handles.map((h) => `${h.engine}/${h.mode}`).join(', ') || 'nothing'})`

/** Every pool not in mode external needs an enabled provider for its (engine, mode); external pools need none. */
export function providerCoverageIssues (pools: Manifest['pools'], enabled: readonly ProviderHandles[]): Issue[] {
  return pools.flatMap((pool, i) => {
    const mode = modeOf(pool)
    if (mode === 'external' || enabled.some((p) => p.handles.some((h) => serves(h, pool.engine, mode)))) return []
    const absent = pool.provisioning.mode === undefined || pool.provisioning.mode === null
    const builtin = BUILTIN_PROVIDER_HANDLES.filter((b) => !enabled.some((p) => p.name === b.name))
    const builtinHere = builtin.find((b) => b.handles.some((h) => serves(h, pool.engine, mode)))
    const otherModes = [
      ...enabled.flatMap((p) => p.handles.filter((h) => h.engine === pool.engine || h.engine === '*').map((h) => `${h.mode} (provider ${p.name})`)),
      ...builtin.flatMap((b) => b.handles.filter((h) => h.engine === pool.engine).map((h) => `${h.mode} (after enabling the built-in provider ${b.name})`)),
      'external (an engine you start yourself, its port in provisioning.ports)',
    ]
    const list = enabled.length > 0 ? enabled.map(describe).join(', ') : 'none'
    return [{
      path: `/pools/${i}/provisioning/mode`,
      message: `pool ${pool.id}: no enabled provider handles engine "${pool.engine}" in mode "${mode}"` +
        `${absent ? ` (the default for ${pool.engine} when mode is absent)` : ''}; enabled providers: ${list}. ` +
        (builtinHere
          ? `Enable the built-in provider ${builtinHere.name} under providers, or set provisioning.mode to ` +
            otherModes.filter((m) => !m.includes(builtinHere.name)).join(' or ')
          : `Enable a provider that handles it under providers, or set provisioning.mode to ${otherModes.join(' or ')}`),
    }]
  })
}

/** The modes whose provisioning installs system packages or downloads engine binaries (OC-CONFIG-6024/6025). */
const POLICY_GATES = { allow_package_installs: ['source', 'package'], allow_binary_downloads: ['binary'] } as const

/**
 * A policy gate set to true while no enabled provider handles a mode it gates allows nothing:
 * refused, so that nobody believes installs or downloads are on (issue 10 #14).
 */
export function policyGateIssues (policy: Manifest['policy'], enabled: readonly ProviderHandles[]): Issue[] {
  return (Object.entries(POLICY_GATES) as Array<[keyof typeof POLICY_GATES, readonly string[]]>).flatMap(([gate, modes]) =>
    policy[gate] && !enabled.some((p) => p.handles.some((h) => modes.includes(h.mode)))
      ? [{
          path: `/policy/${gate}`,
          message: `is true, but no enabled provider handles mode ${modes.join(' or ')}, the only ones it gates; remove it, or enable such a provider`,
        }]
      : [])
}

/** The handles the resolved providers declare, or undefined when one of them does not declare them. */
export function declaredHandles (providers: readonly ResolvedExtension[]): ProviderHandles[] | undefined {
  if (providers.some((p) => p.descriptor.handles === undefined)) return undefined
  return providers.map((p) => ({ name: p.name, handles: p.descriptor.handles ?? [] }))
}

/**
 * What each pool's provider says it cannot honour (`ExtensionDescriptor.checkPool`), with
 * paths made absolute. The provider is chosen as the registry does: an exact engine match
 * before one that handles any engine.
 */
export function poolCheckIssues (pools: Manifest['pools'], providers: readonly ResolvedExtension[]): Issue[] {
  const declared = providers.filter((p) => p.descriptor.handles !== undefined)
  return pools.flatMap((pool, i) => {
    const mode = modeOf(pool)
    if (mode === 'external') return []
    const handlesIt = (exact: boolean) => (p: ResolvedExtension): boolean =>
      p.descriptor.handles!.some((h) => h.mode === mode && (exact ? h.engine === pool.engine : h.engine === '*'))
    const provider = declared.find(handlesIt(true)) ?? declared.find(handlesIt(false))
    const check = provider?.descriptor.checkPool
    if (!provider || !check) return []
    let found: Issue[]
    try {
      found = check(pool)
    } catch (err) {
      found = [{ path: '', message: `provider ${provider.name} failed to check this pool: ${(err as Error).message.split('\n')[0]}` }]
    }
    return found.map((f) => ({ path: `/pools/${i}${f.path}`, message: f.message }))
  })
}
