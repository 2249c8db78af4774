import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { DestinationStream, Logger } from 'pino'
import { fastifySSE as sse } from '@fastify/sse'
import swagger from '@fastify/swagger'
import type { Manifest } from './manifest.js'
import type { Clock } from '../lib/clock.js'
import { poolCheckIssues, policyGateIssues, providerCoverageIssues } from './provider-coverage.js'
import { resolveExtensions, engineCoverageIssues, type ResolveOptions, type ResolvedExtension, type ResolvedExtensions } from './extensions.js'
import { ManifestError } from './errors.js'
import { sortIssues } from '../lib/validation.js'
import correlation, { correlationIdFor } from '../plugins/correlation/index.js'
import narration, { createLogger } from '../plugins/narration/index.js'
import auth from '../plugins/auth/index.js'
import metrics from '../plugins/metrics/index.js'
import catalog from '../plugins/catalog/index.js'
import models from '../plugins/models/index.js'
import artifacts from '../plugins/artifacts/index.js'
import provisioners from '../plugins/provisioners/index.js'
import pool from '../plugins/pool/index.js'
import adapters from '../plugins/adapters/index.js'
import placement from '../plugins/placement/index.js'
import sessions from '../plugins/sessions/index.js'
import dataplane from '../plugins/dataplane/index.js'
import health from '../plugins/health/index.js'
import http from '../plugins/http/index.js'
import { API_VERSION } from '../sdk/api.js'
import { openaiRoutes } from '../plugins/openai/index.js'
import { dataPlaneRoutes } from '../plugins/dataplane/routes.js'
import { sessionRoutes } from '../plugins/sessions/routes.js'
import { poolRoutes } from '../plugins/pool/routes.js'
import { catalogRoutes } from '../plugins/catalog/routes.js'
import { artifactRoutes } from '../plugins/artifacts/routes.js'
import { capabilitiesRoute } from '../plugins/adapters/routes.js'

/** The route plugins mounted under `/v1`, in registration order; each lives in the plugin it serves. */
const API_ROUTES: FastifyPluginAsyncTypebox[] = [dataPlaneRoutes, sessionRoutes, poolRoutes, catalogRoutes, artifactRoutes, capabilitiesRoute, openaiRoutes]

export interface BuildOptions extends ResolveOptions {
  /** The process logger; built from `manifest.server` when absent. */
  logger?: Logger
  /** Where a logger built here writes (tests pass a narration capture). */
  logDestination?: DestinationStream
  /** Extensions already resolved (e.g. by `config check`); resolved here when absent. */
  extensions?: ResolvedExtensions
  /** Time for placement, queues and sessions (tests pass a fake clock). */
  clock?: Clock
}

/**
 * The composition root: registers every stage of the boot graph in order
 * (core/names.ts BOOT_ORDER). Each stage's fp metadata asserts the stages before it,
 * so a misordered registration fails at boot instead of misbehaving later.
 */
export async function buildApp (manifest: Manifest, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const extensions = opts.extensions ?? await resolveExtensions(manifest, opts)
  const logger = opts.logger ?? createLogger({
    level: manifest.server.log_level,
    format: manifest.server.log_format,
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
  })
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: correlationIdFor,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'correlation_id' }),
    bodyLimit: manifest.server.body_limit_bytes,
    // a catalog id may be 512 characters, up to 3 bytes each URL-encoded as %XX%XX%XX: the path
    // parameter must fit (the default of 100 answered 414 for ids the catalog accepts)
    routerOptions: { maxParamLength: 4608 },
    // report every failing field of a request at once, as the manifest checker does
    ajv: { customOptions: { allErrors: true } },
    pluginTimeout: 10_000,
  })
  try {
    await app.register(correlation)
    await app.register(narration)
    await app.register(auth, manifest.auth)
    await app.register(metrics, manifest.metrics)
    await registerProvisioning(app, manifest, extensions.providers)
    await app.register(adapters, { ...manifest.adapter_host, pools: manifest.pools })
    await registerExtensions(app, extensions.adapters)
    const uncovered = [...engineCoverageIssues(manifest.pools, app.adapters.engines()), ...poolCheckIssues(manifest.pools, extensions.providers)]
    if (uncovered.length > 0) throw new ManifestError(opts.source ?? 'manifest', sortIssues(uncovered))
    // Provisioners may still be added until ready (by a provider plugin's own hooks, or a test's
    // setup), so the pools' provider coverage is checked then, before the pool stage starts any.
    app.addHook('onReady', async () => {
      const enabled = app.provisioners.list()
      const unserved = [...providerCoverageIssues(manifest.pools, enabled), ...policyGateIssues(manifest.policy, enabled)]
      if (unserved.length > 0) throw new ManifestError(opts.source ?? 'manifest', sortIssues(unserved))
    })
    await app.register(pool, {
      pools: manifest.pools,
      // directories besides the catalog root that model refs sent over the API may resolve into (issue 10 #1)
      modelDirs: manifest.catalog.model_dirs.map((d) => resolve(d)),
      engineEnv: manifest.policy.engine_env_passthrough,
      runDir: manifest.server.run_dir ?? join(homedir(), '.cache', 'llama-orch', 'run'),
    })
    const clock = opts.clock ? { clock: opts.clock } : {}
    await app.register(placement, { ...manifest.placement, ...clock })
    await app.register(sessions, { ...manifest.sessions, ...clock })
    await app.register(dataplane, { queue: manifest.queue, sse: manifest.sse, tasks: manifest.tasks, ...clock })
    await app.register(sse)
    await app.register(swagger, { openapi: { info: { title: 'llama-orch API', version: API_VERSION } } })
    await app.register(health)
    await app.register(http, { prefix: '/v1', routes: API_ROUTES })
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
  return app
}

/** The stages that obtain engines and models: catalog, model provisioner, artifacts, provisioners and the enabled providers. */
async function registerProvisioning (app: FastifyInstance, manifest: Manifest, providers: ResolvedExtension[]): Promise<void> {
  await app.register(catalog, manifest.catalog)
  await app.register(models, { policy: manifest.policy, fetch: manifest.catalog.fetch })
  await app.register(artifacts, manifest.catalog)
  await app.register(provisioners, { policy: manifest.policy })
  await registerExtensions(app, providers)
}

/**
 * Only what provisioning needs, for `llama-orch provision`: no pools are started, no routes
 * served. The caller closes it.
 */
export async function buildProvisioningApp (manifest: Manifest, o: { logger: Logger, extensions: ResolvedExtensions }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: o.logger as FastifyBaseLogger })
  try {
    await app.register(correlation)
    await app.register(narration)
    await app.register(metrics, manifest.metrics)
    await registerProvisioning(app, manifest, o.extensions.providers)
    await app.ready()
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
  return app
}

async function registerExtensions (app: FastifyInstance, list: ResolvedExtension[]): Promise<void> {
  for (const ext of list) {
    await app.register(ext.plugin, ext.options)
    app.narration.narrate(
      { actor: 'orchestratord', action: 'load', target: ext.name, kind: ext.kind, builtin: ext.builtin },
      `loads ${ext.kind} ${ext.name}${ext.builtin ? ' (built-in)' : ''}`
    )
  }
}

export type { Manifest } from './manifest.js'
export { parseManifest, loadManifest, parseManifestText } from './manifest-load.js'
export { ManifestError } from './errors.js'
