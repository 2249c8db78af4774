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
    issues.push(...provisioningIssues(pool, at), ...ignoredProvisioningIssues(pool, at), ...deviceIssues(pool, at))
  })
  issues.push(
    ...bucketIssues(manifest),
    ...breakerIssues(manifest),
    ...trustPolicyIssues(manifest),
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
    // source without a `source` section builds the llama.cpp release node-llama-cpp ships
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

const MODE_SECTIONS = ['source', 'container', 'package', 'binary'] as const
/** Which provisioning modes each per-pool gate can matter to (spec pools §5.3, OC-CONFIG-6024/6025). */
const GATES = { allow_package_installs: ['source', 'package'], allow_binary_downloads: ['binary'] } as const

/**
 * Provisioning keys the pool's mode never reads (issue 10 #14): a section of another mode, a
 * gate for installs the mode never makes, and for an external engine, flags, env and extra
 * ports nobody passes on. Each would be accepted and silently ignored.
 */
function ignoredProvisioningIssues (pool: PoolLike, at: string): Issue[] {
  const p = pool.provisioning
  if (p === null || typeof p !== 'object') return []
  const mode = p.mode ?? (pool.engine === 'llamacpp' ? 'source' : 'container')
  const where = `${at}/provisioning`
  const issues: Issue[] = []
  for (const section of MODE_SECTIONS) {
    if (section !== mode && p[section] !== undefined && p[section] !== null) {
      issues.push({
        path: `${where}/${section}`,
        message: `is read only in provisioning.mode ${section}, but this pool's mode is ${mode}; remove it, or set mode: ${section}`,
      })
    }
  }
  for (const [gate, modes] of Object.entries(GATES) as Array<[keyof typeof GATES, readonly string[]]>) {
    if (p[gate] === true && !modes.includes(mode)) {
      issues.push({ path: `${where}/${gate}`, message: `gates mode ${modes.join(' and ')} only, and mode ${mode} installs or downloads nothing; remove it` })
    }
  }
  if (mode === 'external') {
    const started = 'an external engine is one you start yourself, so llama-orch passes nothing to it'
    if (Array.isArray(p.flags) && p.flags.length > 0) {
      issues.push({ path: `${where}/flags`, message: `${started}; remove flags and give them to the engine's own command line` })
    }
    if (p.env !== undefined && p.env !== null && Object.keys(p.env).length > 0) {
      issues.push({ path: `${where}/env`, message: `${started}; remove env and set it where you start the engine` })
    }
  }
  return [...issues, ...replicaPortIssues(pool, mode, where)]
}

/**
 * Ports of a replica set: an external set names one engine port per replica; a set llama-orch
 * starts takes a free port for each replica, so a configured port could serve only one.
 */
function replicaPortIssues (pool: PoolLike, mode: string, where: string): Issue[] {
  const ports = pool.provisioning?.ports
  const replicas = typeof pool.replicas === 'number' ? pool.replicas : 1
  if (!Array.isArray(ports)) return []
  if (mode === 'external' && replicas > 1 && ports.length !== replicas) {
    return [{ path: `${where}/ports`, message: `lists ${ports.length} ports for ${replicas} replicas; an external set needs one engine port per replica` }]
  }
  if (mode === 'external' && replicas > 1 && new Set(ports).size !== ports.length) {
    return [{ path: `${where}/ports`, message: 'lists a port twice; each replica of an external set is its own engine, on its own port' }]
  }
  if (replicas > 1 && mode !== 'external' && ports.length > 0) {
    return [{
      path: `${where}/ports`,
      message: `cannot serve ${replicas} replicas (each engine needs its own port, and llama-orch picks a free one for each); remove ports, or set replicas: 1`,
    }]
  }
  if (replicas === 1 && (mode === 'external' || mode === 'embedded') && ports.length > 1) {
    return [{ path: `${where}/ports/1`, message: `mode ${mode} uses ports[0] only (the engine port); remove the other ports` }]
  }
  return []
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
  } else if (Array.isArray(split) && policy === 'cpu-only') {
    issues.push({ path: `${at}/tensor_split`, message: 'cannot be honoured under compute_policy cpu-only (no GPUs to split over); remove it' })
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

function trustPolicyIssues (manifest: Partial<Manifest>): Issue[] {
  // the catalog checks no certificate chain: a signature counts when its entry says verified: true
  const roots = manifest.catalog?.trust_policy?.ca_roots
  if (!Array.isArray(roots) || roots.length === 0) return []
  return [{
    path: '/catalog/trust_policy/ca_roots',
    message: 'is not supported: signatures are not checked against CA roots (a signature counts when its entry records verified: true); ' +
      'remove it, and keep require_signature to demand a verified signature',
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
