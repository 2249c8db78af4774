/**
 * `llama-orch provision --config FILE [--pool ID] [--plan] [--json]` (issue 12 item 5): what
 * the enabled providers would do for each pool (`--plan`: the same text on every run, nothing
 * done), or doing it — model staged, engine built, downloaded or installed, the EngineEntry
 * recorded — with a progress bar on a terminal and plain progress lines otherwise. Nothing
 * is started: the engine command line is printed for the operator to see.
 */
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { PoolConfig } from '../sdk/pool-config.js'
import type { PreparedEngine, ProvisionProgress } from '../sdk/index.js'
import { loadManifest } from './manifest-load.js'
import { resolveExtensions } from './extensions.js'
import { buildProvisioningApp } from './app.js'
import { ManifestError, ORC_ERR_CLI_USAGE } from './errors.js'
import { sortIssues } from '../lib/validation.js'
import { providerCoverageIssues } from './provider-coverage.js'
import { modeOf, configuredTarget } from '../plugins/pool/launch.js'
import { createLogger } from '../plugins/narration/index.js'
import { progressPrinter, type ProgressOut } from './provision-progress.js'

export interface ProvisionIo { out (line: string): void, err (line: string): void }

export const PROVISION_USAGE = `Usage:
  llama-orch provision --config FILE [--pool ID] [--plan] [--json]
      --plan   print what each pool's provider would do, and do nothing
      --pool   only this pool
      --json   print the prepared engines (or plans) as JSON`

export interface ProvisionDeps {
  /** Where progress goes; a bar is drawn only when it is a terminal. */
  tty?: ProgressOut
  logger?: Logger
}

function planLines (pool: PoolConfig, provider: string, steps: Array<{ kind: string, detail: string }>): string[] {
  return [
    `pool ${pool.id} (engine ${pool.engine}, mode ${modeOf(pool)}, provider ${provider})`,
    ...steps.map((s, i) => `  ${i + 1}. ${s.kind}: ${s.detail}`),
  ]
}

function preparedLines (p: PreparedEngine): string[] {
  return [
    `pool engine ${p.engine} ${p.version} (${p.mode}, ${p.compute_mode})`,
    `  digest: ${p.digest ?? 'unknown'}`,
    `  build_ref: ${p.build_ref ?? '-'}`,
    `  engine_catalog_id: ${p.engine_catalog_id ?? '-'}`,
    `  binary: ${p.binary_path ?? '-'}`,
    `  command: ${[p.bin, ...p.args].join(' ')}`,
  ]
}

export async function provisionCli (argv: string[], io: ProvisionIo, deps: ProvisionDeps = {}): Promise<number> {
  let values
  try {
    const options = { config: { type: 'string' }, pool: { type: 'string' }, plan: { type: 'boolean' }, json: { type: 'boolean' } } as const
    ;({ values } = parseArgs({ args: argv, strict: true, options }))
  } catch (err) { throw new ORC_ERR_CLI_USAGE(`${(err as Error).message}\n${PROVISION_USAGE}`) }
  if (values.config === undefined) throw new ORC_ERR_CLI_USAGE(`provision needs --config FILE\n${PROVISION_USAGE}`)
  const manifest = await loadManifest(values.config)
  const pools = values.pool === undefined ? manifest.pools : manifest.pools.filter((p) => p.id === values.pool)
  if (pools.length === 0) {
    const known = manifest.pools.map((p) => p.id).join(', ') || 'none'
    throw new ORC_ERR_CLI_USAGE(values.pool === undefined ? `${values.config} has no pools` : `no pool "${values.pool}" in ${values.config} (pools: ${known})`)
  }
  const extensions = await resolveExtensions(manifest, { source: values.config })
  // narration (build steps, a CPU fallback, reuse) goes to stderr as lines a person reads; a plan needs none
  const logger = deps.logger ?? createLogger({ level: values.plan ? 'warn' : 'info', format: 'pretty', destination: process.stderr })
  const app = await buildProvisioningApp(manifest, { logger, extensions })
  try {
    const unserved = providerCoverageIssues(pools, app.provisioners.list())
    if (unserved.length > 0) throw new ManifestError(values.config, sortIssues(unserved))
    const results: unknown[] = []
    for (const pool of pools) {
      const provider = app.provisioners.providerFor(pool.engine, modeOf(pool))
      if (!provider) { // external: coverage checked above
        const line = `pool ${pool.id} (engine ${pool.engine}, mode external): nothing to provision; ` +
          `llama-orch attaches to the engine at ${pool.provisioning.host}:${pool.provisioning.ports?.[0]}`
        if (values.json) results.push({ pool_id: pool.id, mode: 'external' })
        else io.out(line)
        continue
      }
      if (values.plan) {
        const plan = provider.plan(pool)
        if (values.json) results.push({ ...plan, provider: provider.name })
        else for (const l of planLines(pool, provider.name, plan.steps)) io.out(l)
        continue
      }
      results.push(await prepareOne(app, pool, provider, io, deps, values.json === true))
    }
    if (values.json) io.out(JSON.stringify(results, null, 2))
    return 0
  } catch (err) {
    if (err instanceof ManifestError) { for (const line of err.lines) io.err(line); return 1 }
    throw err
  } finally {
    await app.close()
  }
}

async function prepareOne (app: FastifyInstance, pool: PoolConfig, provider: NonNullable<ReturnType<FastifyInstance['provisioners']['providerFor']>>,
  io: ProvisionIo, deps: ProvisionDeps, json: boolean): Promise<PreparedEngine> {
  const target = configuredTarget(pool)
  if (!json) io.out(`pool ${pool.id}: staging model ${target.ref}`)
  const model = await app.models.ensurePresent(target.ref, target.digest, { engine: pool.engine })
  const printer = progressPrinter(deps.tty ?? process.stderr, pool.id)
  const started = Date.now()
  let prepared: PreparedEngine
  try {
    prepared = await provider.prepare(pool, { model, progress: (p: ProvisionProgress) => printer.update(p) })
  } finally {
    printer.done()
  }
  if (!json) {
    io.out(`pool ${pool.id}: engine ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    for (const l of preparedLines(prepared)) io.out(l)
  }
  return prepared
}
