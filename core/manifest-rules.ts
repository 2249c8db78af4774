import type { Manifest } from './manifest.js'
import type { Issue } from '../lib/validation.js'

type PoolLike = Partial<Manifest['pools'][number]>

/**
 * Rules that span several fields and so cannot live in the JSON Schema. They run on
 * whatever parsed, even when the schema found problems, so that one check reports
 * everything; every access is therefore defensive.
 */
export function manifestRuleIssues (manifest: Partial<Manifest>): Issue[] {
  const issues: Issue[] = []
  const pools: PoolLike[] = Array.isArray(manifest.pools) ? manifest.pools : []
  const firstById = new Map<string, number>()
  pools.forEach((pool, i) => {
    if (pool === null || typeof pool !== 'object') return
    const at = `/pools/${i}`
    if (typeof pool.id === 'string') {
      const first = firstById.get(pool.id)
      if (first === undefined) firstById.set(pool.id, i)
      else issues.push({ path: `${at}/id`, message: `duplicates the id of /pools/${first}; pool ids must be unique` })
    }
    issues.push(...provisioningIssues(pool, at), ...deviceIssues(pool, at))
  })
  issues.push(
    ...bucketIssues(manifest),
    ...breakerIssues(manifest),
    ...duplicateExtensionIssues(manifest, 'adapters'),
    ...duplicateExtensionIssues(manifest, 'providers')
  )
  return issues
}

function provisioningIssues (pool: PoolLike, at: string): Issue[] {
  const p = pool.provisioning
  if (p === null || typeof p !== 'object') return []
  const where = `${at}/provisioning`
  const need = (ok: boolean, path: string, mode: string): Issue[] =>
    ok ? [] : [{ path: `${where}/${path}`, message: `is required when provisioning.mode is ${mode}` }]
  switch (p.mode) {
    case 'source': return need(typeof p.source === 'object' && p.source !== null, 'source', 'source')
    case 'container': return need(typeof p.container?.image === 'string', 'container/image', 'container')
    case 'package': return need(typeof p.package?.name === 'string', 'package/name', 'package')
    case 'binary': return [
      ...need(typeof p.binary?.url === 'string', 'binary/url', 'binary'),
      ...need(typeof p.binary?.checksum === 'string', 'binary/checksum', 'binary'),
    ]
    case 'external': return need(Array.isArray(p.ports) && p.ports.length > 0, 'ports', 'external (the engine port is ports[0])')
    default: return []
  }
}

function deviceIssues (pool: PoolLike, at: string): Issue[] {
  const issues: Issue[] = []
  const devices = Array.isArray(pool.devices) ? pool.devices : undefined
  const mode = pool.provisioning?.mode
  const policy = pool.provisioning?.compute_policy
  if (devices?.length === 0 && policy === 'gpu-required' && mode !== 'external') {
    issues.push({ path: `${at}/devices`, message: 'is empty but compute_policy is gpu-required; list the GPU ids to use, or choose cpu-fallback / cpu-only' })
  }
  const split = pool.tensor_split
  if (Array.isArray(split) && devices !== undefined && split.length !== devices.length) {
    issues.push({ path: `${at}/tensor_split`, message: `has ${split.length} ratios for ${devices.length} devices; give one ratio per device` })
  } else if (Array.isArray(split) && mode === 'embedded') {
    // node-llama-cpp spreads layers over the visible GPUs itself and takes no split ratios
    issues.push({
      path: `${at}/tensor_split`,
      message: 'cannot be honoured in embedded mode (node-llama-cpp places layers itself); remove it, or use a llama.cpp source or binary engine',
    })
  } else if (Array.isArray(split) && mode === 'external') {
    issues.push({
      path: `${at}/tensor_split`,
      message: 'cannot be honoured for an external engine (you start it); remove it and pass the split to the engine itself',
    })
  }
  return issues
}

function bucketIssues (manifest: Partial<Manifest>): Issue[] {
  const buckets = manifest.metrics?.buckets_ms
  if (!Array.isArray(buckets)) return []
  const bad = buckets.findIndex((b, i) => i > 0 && !(b > (buckets[i - 1] as number)))
  return bad < 0 ? [] : [{ path: `/metrics/buckets_ms/${bad}`, message: 'buckets must be strictly increasing' }]
}

function breakerIssues (manifest: Partial<Manifest>): Issue[] {
  const b = manifest.adapter_host?.breaker
  if (typeof b?.cooldown_ms !== 'number' || typeof b.max_cooldown_ms !== 'number' || b.max_cooldown_ms >= b.cooldown_ms) return []
  return [{
    path: '/adapter_host/breaker/max_cooldown_ms',
    message: `is ${b.max_cooldown_ms}, below cooldown_ms ${b.cooldown_ms}; the cap must be at least the first cool-down`,
  }]
}

function duplicateExtensionIssues (manifest: Partial<Manifest>, list: 'adapters' | 'providers'): Issue[] {
  const entries = manifest[list]
  if (!Array.isArray(entries)) return []
  const seen = new Map<string, number>()
  const issues: Issue[] = []
  entries.forEach((entry, i) => {
    const name = typeof entry === 'string' ? entry : entry?.package
    if (typeof name !== 'string') return
    const first = seen.get(name)
    if (first === undefined) seen.set(name, i)
    else issues.push({ path: `/${list}/${i}`, message: `enables "${name}" a second time (first at /${list}/${first})` })
  })
  return issues
}
