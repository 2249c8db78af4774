import type { Test } from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { PreparedEngine, Provisioner } from '../../../sdk/index.js'
import { freePort } from '../../../lib/provision/ports.js'
import { build, FIXTURE_ADAPTER, type Built } from '../../../test/helpers/build.js'
import type { BuildOptions } from '../../../core/app.js'

export const FAKE_ENGINE = join(import.meta.dirname, 'fixtures', 'fake-engine.mjs')

/**
 * A provisioner for engine `fixture` in mode `embedded` that starts fake-engine.mjs. The model
 * "file" is JSON: `{ "args": [...] }` adds fake-engine flags, `{ "prepare_error": "..." }`
 * makes prepare fail. `calls` counts prepare calls.
 */
export function fakeProvisioner (): Provisioner & { calls: number } {
  const p = {
    name: 'fake',
    handles: [{ engine: 'fixture', mode: 'embedded' as const }],
    calls: 0,
    plan: (pool: { id: string }) => ({ pool_id: pool.id, steps: [] }),
    async prepare (pool: { id: string }, o: { model?: { local_path: string } } = {}): Promise<PreparedEngine> {
      p.calls++
      const spec = JSON.parse(await readFile(o.model!.local_path, 'utf8')) as { args?: string[], prepare_error?: string }
      if (spec.prepare_error) throw new Error(spec.prepare_error)
      const port = await freePort('127.0.0.1')
      return {
        engine: 'fixture',
        version: 'fake-1',
        build_ref: null,
        digest: 'sha256:fake',
        build_flags: null,
        mode: 'embedded',
        compute_mode: 'cpu',
        binary_path: null,
        engine_catalog_id: 'fake-engine-1',
        bin: process.execPath,
        args: [FAKE_ENGINE, '--port', String(port), '--model', o.model!.local_path, ...(spec.args ?? [])],
        env: {},
        ports: [port],
        workdir: process.cwd(),
        health: { url: `http://127.0.0.1:${port}/health`, kind: 'llamacpp' },
      }
    },
  }
  return p
}

/** A folder used as the catalog root, with model files written into it. */
export async function modelDir (t: Test, models: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'orc-pool-'))
  for (const [name, spec] of Object.entries(models)) await writeFile(join(dir, name), JSON.stringify(spec))
  t.teardown(async () => { const { rm } = await import('node:fs/promises'); await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A `fixture` pool in mode embedded with fast supervision and health settings. */
export function fastPool (id: string, ref: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    engine: 'fixture',
    model: ref,
    devices: [],
    provisioning: { mode: 'embedded', compute_policy: 'cpu-only', model: { ref } },
    supervision: {
      backoff_initial_ms: 40,
      backoff_max_ms: 200,
      breaker_max_restarts: 3,
      breaker_window_ms: 60_000,
      breaker_cooldown_ms: 60_000,
      drain_default_deadline_ms: 2000,
    },
    health_check: { interval_ms: 50, timeout_ms: 500, startup_timeout_ms: 3000, failure_threshold: 2 },
    ...extra,
  }
}

export async function buildPools (
  t: Test,
  pools: Array<Record<string, unknown>>,
  root: string,
  opts: BuildOptions & { setup?: (app: FastifyInstance) => void, manifest?: Record<string, unknown> } = {}
): Promise<Built & { prov: ReturnType<typeof fakeProvisioner> }> {
  const prov = fakeProvisioner()
  const { manifest, ...rest } = opts
  const built = await build(t, { adapters: [FIXTURE_ADAPTER], catalog: { root }, pools, ...manifest }, {
    ...rest,
    setup: (app) => { app.provisioners.add(prov); opts.setup?.(app) },
  })
  return { ...built, prov }
}

export { waitFor } from '../../../test/helpers/wait.js'

export function pidAlive (pid: number | undefined): boolean {
  if (pid === undefined) return false
  try { process.kill(pid, 0); return true } catch { return false }
}
