import { Type } from 'typebox'
import { Value } from 'typebox/value'
import type { FastifyPluginAsync, FastifyPluginCallback } from 'fastify'
import type { Manifest, ExtensionEntry } from './manifest.js'
import { EXTENSION_API, type ExtensionDescriptor, type ExtensionKind } from '../sdk/index.js'
import { ProvisioningMode } from '../sdk/pool-config.js'
import { BUILTINS, type Builtins } from './builtins.js'
import { schemaIssues, type Issue } from '../lib/validation.js'
import { ManifestError } from './errors.js'

export type Importer = (specifier: string) => Promise<unknown>

export interface ResolvedExtension {
  kind: ExtensionKind
  /** The built-in name or npm package name from the manifest. */
  name: string
  builtin: boolean
  /** JSON pointer of the manifest entry, e.g. `/adapters/1`. */
  at: string
  plugin: FastifyPluginAsync | FastifyPluginCallback
  descriptor: ExtensionDescriptor
  /** Options validated against the descriptor's schema, defaults filled. */
  options: Record<string, unknown>
}

export interface ResolvedExtensions { providers: ResolvedExtension[], adapters: ResolvedExtension[] }

export interface ResolveOptions {
  importer?: Importer
  builtins?: Builtins
  source?: string
}

const DescriptorShape = Type.Object({
  kind: Type.Enum(['adapter', 'provisioner']),
  apiVersion: Type.Integer(),
  optionsSchema: Type.Object({}),
  engines: Type.Optional(Type.Array(Type.String())),
  handles: Type.Optional(Type.Array(Type.Object({ engine: Type.String({ minLength: 1 }), mode: ProvisioningMode }))),
})

const LISTS = [['providers', 'provisioner'], ['adapters', 'adapter']] as const

/**
 * Imports and checks every enabled extension named in the manifest: built-ins from the
 * static map, anything else by package name. All problems are reported together, each
 * naming its manifest entry, before anything is registered.
 */
export async function resolveExtensions (manifest: Manifest, opts: ResolveOptions = {}): Promise<ResolvedExtensions> {
  const importer = opts.importer ?? ((s: string) => import(s))
  const builtins = opts.builtins ?? BUILTINS
  const resolved: ResolvedExtensions = { providers: [], adapters: [] }
  const issues: Issue[] = []
  for (const [list, kind] of LISTS) {
    for (const [index, entry] of manifest[list].entries()) {
      const { name, options, enabled } = normalise(entry)
      if (!enabled) continue
      const at = `/${list}/${index}`
      const result = await resolveOne({ name, options, at, kind }, importer, builtins)
      if ('issues' in result) issues.push(...result.issues)
      else resolved[list].push(result)
    }
  }
  if (issues.length > 0) throw new ManifestError(opts.source ?? 'manifest', issues)
  return resolved
}

function normalise (entry: ExtensionEntry): { name: string, options: Record<string, unknown>, enabled: boolean } {
  if (typeof entry === 'string') return { name: entry, options: {}, enabled: true }
  return { name: entry.package, options: entry.options ?? {}, enabled: entry.enabled ?? true }
}

interface Wanted { name: string, options: Record<string, unknown>, at: string, kind: ExtensionKind }

async function resolveOne (w: Wanted, importer: Importer, builtins: Builtins): Promise<ResolvedExtension | { issues: Issue[] }> {
  const load = builtins[w.kind][w.name]
  const builtin = load !== undefined
  const fail = (message: string): { issues: Issue[] } => ({ issues: [{ path: w.at, message }] })
  let mod: unknown
  try {
    mod = builtin ? await load() : await importer(w.name)
  } catch (err) {
    if (!builtin && isMissingPackage(err, w.name)) {
      const known = Object.keys(builtins[w.kind])
      const hint = known.length > 0 ? ` (built-in ${w.kind}s: ${known.join(', ')})` : ''
      return fail(`package "${w.name}" is not installed; install it next to llama-orch with \`npm install ${w.name}\`, or fix the name${hint}`)
    }
    return fail(`${w.kind} "${w.name}" failed to load: ${(err as Error).message.split('\n')[0]}`)
  }
  const m = (mod ?? {}) as { default?: unknown, extension?: unknown }
  if (!Value.Check(DescriptorShape, m.extension)) {
    return fail(`"${w.name}" is not a llama-orch extension: it must export \`extension = { kind, apiVersion, optionsSchema }\` (see llama-orch/sdk)`)
  }
  const descriptor = m.extension as ExtensionDescriptor
  if (descriptor.checkPool !== undefined && typeof descriptor.checkPool !== 'function') {
    return fail(`"${w.name}" exports an \`extension.checkPool\` that is not a function; it must be (pool) => [{ path, message }]`)
  }
  if (typeof m.default !== 'function') {
    return fail(`"${w.name}" must export a Fastify plugin as its default export`)
  }
  if (descriptor.kind !== w.kind) {
    return fail(
      `"${w.name}" is a ${descriptor.kind}, but it is listed under ${w.kind === 'adapter' ? 'adapters' : 'providers'}; ` +
      `move it to ${descriptor.kind === 'adapter' ? 'adapters' : 'providers'}`
    )
  }
  if (descriptor.apiVersion !== EXTENSION_API) {
    return fail(
      `"${w.name}" targets extension API v${descriptor.apiVersion}, but this llama-orch speaks v${EXTENSION_API}; ` +
      `install a version of it built for v${EXTENSION_API}`
    )
  }
  const options = Value.Default(descriptor.optionsSchema, Value.Clone(w.options)) as Record<string, unknown>
  const optionIssues = schemaIssues(descriptor.optionsSchema, options)
  if (optionIssues.length > 0) {
    return { issues: optionIssues.map((i) => ({ path: `${w.at}/options${i.path}`, message: i.message })) }
  }
  return { kind: w.kind, name: w.name, builtin, at: w.at, plugin: m.default as FastifyPluginAsync, descriptor, options }
}

function isMissingPackage (err: unknown, name: string): boolean {
  // The message names the package that is missing: when it names another one, the
  // extension is installed but misses one of *its* dependencies, a different problem.
  // (Loaders differ in error codes, e.g. under a TypeScript loader, so the message decides.)
  const message = (err as Error | undefined)?.message
  return typeof message === 'string' && new RegExp(`^Cannot find (package|module) '${escapeRegExp(name)}'`).test(message)
}

function escapeRegExp (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Pools whose engine no enabled adapter serves. */
export function engineCoverageIssues (pools: Manifest['pools'], engines: Iterable<string>): Issue[] {
  const served = new Set(engines)
  const list = served.size > 0 ? [...served].sort().join(', ') : 'none'
  return pools.flatMap((pool, i) => served.has(pool.engine)
    ? []
    : [{ path: `/pools/${i}/engine`, message: `no enabled adapter serves engine "${pool.engine}"; enable one under adapters (engines served now: ${list})` }])
}

/** The engines the resolved adapters declare, or undefined when one of them does not declare its engines. */
export function declaredEngines (adapters: ResolvedExtension[]): string[] | undefined {
  if (adapters.some((a) => a.descriptor.engines === undefined)) return undefined
  return adapters.flatMap((a) => a.descriptor.engines ?? [])
}
