/**
 * The World of the BDD harness (spec adapters-observability-testing.md §6.2, ORCH-3279): one per
 * scenario, holding an app built from a partial manifest (test/helpers/build.ts) that listens on
 * an ephemeral 127.0.0.1 port, the fake engines its pools point at, the narration capture, the
 * last response (status, headers, body, correlation id) and the SSE transcripts read. Steps talk
 * to the app over real HTTP only (undici); the fakes are test doubles and may be scripted.
 */
import { After, Before, setDefaultTimeout, setWorldConstructor, World } from '@cucumber/cucumber'
import { rmSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { Agent, request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helpers/build.js'
import { fakeLlamaServer } from '../../fixtures/engines/llama-server.js'
import type { FakeEngine } from '../../fixtures/engines/fake-engine.js'
import { parseSse, type Frame } from '../../fixtures/dataplane.js'
import type { Capture } from '../../../plugins/narration/index.js'
import { evidence } from './evidence.js'

setDefaultTimeout(10_000)

export interface Reply { status: number, headers: Record<string, string>, body: string, json: any }

export interface StreamHandle {
  status: number
  headers: Record<string, string>
  raw: string
  /** frames parsed so far, each with the time it arrived */
  frames: Array<Frame & { at: number }>
  /** settles when the body ends (or fails) */
  done: Promise<void>
  error: unknown
}

export interface PoolSpec {
  id: string
  model: string
  capacity?: number
  policy?: 'reject' | 'drop-lru'
  /** false: the engine answers /health 503 "Loading model", so the pool never gets Ready */
  engineReady?: boolean
}

export interface ServerSpec {
  pools?: PoolSpec[]
  apiKeys?: string[]
  sessions?: Record<string, unknown>
  /** wait for GET /readyz to say 200 (default: when every pool's engine is up) */
  waitReady?: boolean
}

/** Model files in each world's catalog root: pools stage `tiny.gguf`; reloads may name the others. */
export const MODEL_FILES = ['tiny.gguf', 'tiny-b.gguf']

const flat = (h: Record<string, string | string[] | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : v ?? '']))

const ROOTS: string[] = []
process.on('exit', () => { for (const r of ROOTS) rmSync(r, { recursive: true, force: true }) })

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class OrchWorld extends World {
  app: FastifyInstance | null = null
  capture: Capture | null = null
  base = ''
  root = ''
  engines = new Map<string, FakeEngine>()
  /** headers every request of the scenario carries (`Given my requests carry …`) */
  headers: Record<string, string> = {}
  last: Reply | null = null
  /** the X-Correlation-Id of the last response */
  correlationId: string | null = null
  /** named task → its id and 202 */
  tasks = new Map<string, { id: string, admission: Reply, sessionId: string }>()
  streams = new Map<string, StreamHandle>()
  /** named numbers remembered between steps (metric values before an action, ack times…) */
  memo = new Map<string, number>()
  scenario = ''
  private readonly agent = new Agent({ keepAliveTimeout: 500, connections: 64 })
  private readonly teardowns: Array<() => unknown> = []

  get engine (): FakeEngine {
    const first = this.engines.values().next()
    if (first.done) throw new Error('this scenario started no fake engine (start a server with a pool first)')
    return first.value
  }

  get reply (): Reply {
    if (!this.last) throw new Error('no request was made yet')
    return this.last
  }

  /** Builds the app: one fake llama-server per pool, pools in `external` mode pointing at them. */
  async start (spec: ServerSpec = {}): Promise<void> {
    if (this.app) throw new Error('the scenario already has a server')
    this.root = await mkdtemp(join(tmpdir(), 'orc-bdd-'))
    // removed when the process exits, not in After: a pool still preloading when the app closes
    // writes the catalog index after close() resolved (reported as a product bug)
    ROOTS.push(this.root)
    for (const f of MODEL_FILES) await writeFile(join(this.root, f), `GGUF\x03\x00\x00\x00${f}`)
    const pools = []
    for (const p of spec.pools ?? []) {
      // llama-server's chat rendering, which the llamacpp adapter calls for /v1/chat/completions
      const engine = await fakeLlamaServer({ applyTemplate: true })
      this.teardowns.push(() => engine.close())
      if (p.engineReady === false) engine.faults.healthStatus = 503
      this.engines.set(p.id, engine)
      pools.push({
        id: p.id,
        engine: 'llamacpp',
        model: p.model,
        ctx: 32768,
        devices: [],
        provisioning: {
          mode: 'external', compute_policy: 'cpu-only', host: '127.0.0.1', ports: [Number(new URL(engine.url).port)], model: { ref: 'tiny.gguf' },
        },
        health_check: { interval_ms: 50, timeout_ms: 500, startup_timeout_ms: 5000, failure_threshold: 3 },
        supervision: { drain_default_deadline_ms: 1000 },
        queue: { capacity: p.capacity ?? 8, full_policy: p.policy ?? 'reject' },
      })
    }
    // build() wants a tap Test for its teardown only; the After hook runs what it registers
    const scope = { teardown: (fn: () => unknown) => { this.teardowns.push(fn) } } as unknown as Test
    const { app, capture } = await build(scope, {
      adapters: [{ package: 'llamacpp', options: { http: { backoff_base_ms: 1, backoff_cap_ms: 5 } } }],
      catalog: { root: this.root },
      auth: { api_keys: spec.apiKeys ?? [] },
      sessions: spec.sessions ?? {},
      pools,
    })
    this.app = app
    this.capture = capture
    this.base = await app.listen({ port: 0, host: '127.0.0.1' })
    const waitReady = spec.waitReady ?? (spec.pools ?? []).every((p) => p.engineReady !== false)
    if (waitReady && pools.length > 0) await this.until('GET /readyz answers 200', async () => (await this.raw('GET', '/readyz')).status === 200, 5000)
    // the adapter's warm-up generations happen before Ready: steps count what comes after
    for (const [id, e] of this.engines) this.memo.set(`engine:${id}:baseline`, e.hits('/completion').length)
  }

  /** One HTTP request without touching `last`. */
  async raw (method: string, path: string, o: { headers?: Record<string, string>, body?: unknown } = {}): Promise<Reply> {
    if (!this.base) throw new Error('no server was started in this scenario')
    const hasBody = o.body !== undefined
    const res = await request(this.base + path, {
      method: method as 'GET',
      dispatcher: this.agent,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...this.headers, ...o.headers },
      ...(hasBody ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
    })
    const body = await res.body.text()
    let json: any = null
    try { json = body ? JSON.parse(body) : null } catch {}
    return { status: res.statusCode, headers: flat(res.headers), body, json }
  }

  /** A request whose answer becomes `last`. */
  async call (method: string, path: string, o: { headers?: Record<string, string>, body?: unknown } = {}): Promise<Reply> {
    const r = await this.raw(method, path, o)
    this.last = r
    this.correlationId = r.headers['x-correlation-id'] ?? null
    return r
  }

  /** Opens an SSE stream and reads it in the background; the handle fills as frames arrive. */
  async openStream (
    name: string, path: string, o: { method?: string, body?: unknown, headers?: Record<string, string>, parse?: boolean } = {}
  ): Promise<StreamHandle> {
    const hasBody = o.body !== undefined
    const res = await request(this.base + path, {
      method: (o.method ?? 'GET') as 'GET',
      dispatcher: this.agent,
      headers: { accept: 'text/event-stream', ...(hasBody ? { 'content-type': 'application/json' } : {}), ...this.headers, ...o.headers },
      ...(hasBody ? { body: JSON.stringify(o.body) } : {}),
    })
    const handle: StreamHandle = { status: res.statusCode, headers: flat(res.headers), raw: '', frames: [], done: Promise.resolve(), error: null }
    this.last = { status: res.statusCode, headers: handle.headers, body: '', json: null }
    this.correlationId = handle.headers['x-correlation-id'] ?? null
    const decoder = new TextDecoder()
    handle.done = (async () => {
      try {
        for await (const chunk of res.body) {
          handle.raw += decoder.decode(chunk as Uint8Array, { stream: true })
          const complete = handle.raw.slice(0, handle.raw.lastIndexOf('\n\n') + 2)
          const parsed = handle.status === 200 && o.parse !== false ? parseSse(complete) : []
          const at = Date.now()
          for (let i = handle.frames.length; i < parsed.length; i++) handle.frames.push({ ...parsed[i]!, at })
        }
      } catch (err) {
        handle.error = err
      }
      const sse = evidence.sse.get(this.scenario) ?? []
      sse.push(`: ${name} ${path}\n${handle.raw}`)
      evidence.sse.set(this.scenario, sse)
    })()
    this.streams.set(name, handle)
    return handle
  }

  stream (name: string): StreamHandle {
    const s = this.streams.get(name)
    if (!s) throw new Error(`no stream "${name}" was opened (open: ${[...this.streams.keys()].join(', ') || 'none'})`)
    return s
  }

  task (name: string): { id: string, admission: Reply, sessionId: string } {
    const t = this.tasks.get(name)
    if (!t) throw new Error(`no task "${name}" was submitted (tasks: ${[...this.tasks.keys()].join(', ') || 'none'})`)
    return t
  }

  /** Polls `fn` every 20 ms until it is truthy; fails naming `what` after `ms`. */
  async until (what: string, fn: () => unknown, ms = 3000): Promise<void> {
    const end = Date.now() + ms
    for (;;) {
      if (await fn()) return
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting until ${what}`)
      await sleep(20)
    }
  }

  async close (): Promise<void> {
    if (this.capture) for (const r of this.capture.records()) evidence.narration.push({ ...r, scenario: this.scenario })
    const app = this.app
    this.app = null
    const errors: unknown[] = []
    // the app first (it cancels its streams), then the agent, then the fakes and files
    if (app) await app.close().catch((err: unknown) => errors.push(err))
    await this.agent.destroy().catch((err: unknown) => errors.push(err))
    for (const fn of this.teardowns.reverse()) {
      try { await fn() } catch (err) { errors.push(err) }
    }
    const why = errors.map((e) => e instanceof Error ? e.stack ?? e.message : String(e)).join('\n')
    if (errors.length > 0) throw new Error(`closing the scenario's server failed: ${why}`)
  }
}

setWorldConstructor(OrchWorld)

Before(function (this: OrchWorld, { pickle }) {
  this.scenario = pickle.name
})

After(async function (this: OrchWorld) {
  await this.close()
})
