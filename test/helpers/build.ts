import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../core/app.js'
import { parseManifest } from '../../core/manifest-load.js'
import type { Manifest } from '../../core/manifest.js'
import { createCapture, createLogger, type Capture } from '../../plugins/narration/index.js'

// Tests never touch the user's ~/.cache: unless a test names its own, the catalog lives in a
// per-process temp folder and artifacts stay in memory.
const TEST_CATALOG_ROOT = mkdtempSync(join(tmpdir(), 'orc-test-catalog-'))
process.on('exit', () => { rmSync(TEST_CATALOG_ROOT, { recursive: true, force: true }) })

function isolatedCatalog (catalog: Record<string, unknown> = {}): Record<string, unknown> {
  const artifactsChosen = catalog.artifacts_root !== undefined || catalog.artifacts_store !== undefined
  return { root: TEST_CATALOG_ROOT, ...(artifactsChosen ? {} : { artifacts_store: 'memory' }), ...catalog }
}

// Engine workers started from the TypeScript sources need the test runner's loader settings and
// coverage hooks; engines get only a whitelisted environment otherwise (pool/replica.ts).
export const TEST_ENGINE_ENV = ['TS_NODE_*', '_TAPJS_*', 'TAP_*']

/** A manifest from a partial document, defaults filled and validated like a real file. */
export function manifestOf (partial: Record<string, unknown> = {}): Manifest {
  const policy = { engine_env_passthrough: TEST_ENGINE_ENV, ...(partial.policy as Record<string, unknown> | undefined) }
  // engine PID files stay in the per-process temp folder too
  const server = { run_dir: join(TEST_CATALOG_ROOT, 'run'), ...(partial.server as Record<string, unknown> | undefined) }
  return parseManifest({
    pools: [],
    ...partial,
    policy,
    server,
    catalog: isolatedCatalog(partial.catalog as Record<string, unknown> | undefined),
  }, 'test manifest')
}

export interface Built { app: FastifyInstance, capture: Capture, manifest: Manifest }

/** The whole app from a partial manifest, logging into a capture; `setup` may add routes before ready. */
export async function build (
  t: Test,
  partial: Record<string, unknown> = {},
  opts: BuildOptions & { setup?: (app: FastifyInstance) => void } = {}
): Promise<Built> {
  const manifest = manifestOf(partial)
  const capture = createCapture()
  const app = await buildApp(manifest, { logger: createLogger({ level: 'debug', destination: capture }), ...opts })
  t.teardown(() => app.close())
  opts.setup?.(app)
  await app.ready()
  return { app, capture, manifest }
}

/** A pool config using the fixture adapter's engine, for tests that need a configured pool. */
export function fixturePool (id = 'echo0', extra: Record<string, unknown> = {}): Record<string, unknown> {
  // preload: false keeps it Unready and quiet: nothing listens on its port
  return {
    id,
    engine: 'fixture',
    model: 'echo',
    devices: [],
    preload: false,
    provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [18080] },
    ...extra,
  }
}

export const FIXTURE_ADAPTER = 'orc-adapter-fixture'
