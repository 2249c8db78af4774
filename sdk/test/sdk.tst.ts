/**
 * The public SDK's type test (spec architecture.md §4): the shapes a third-party extension
 * compiles against. A change to any of them (a field renamed, made optional, an enum member
 * added) fails here, so it is a decision rather than an accident. Run with `npm run typetest`.
 * `toBe` is type identity: a new optional field fails it too, on purpose.
 */
import { describe, expect, test } from 'tstyche'
import type { FastifyInstance } from 'fastify'
import type { TSchema } from 'typebox'
import {
  ApiError, EXTENSION_API,
  type AdapterBinding, type AdapterFactory, type AdapterHost, type AdapterRegistry, type ApiErrorOptions, type CallOpts, type CapabilitySnapshot,
  type EndData, type EngineBuild, type EngineMetricsSnapshot, type ErrorEnvelope, type ErrorKind, type ExtensionDescriptor, type ExtensionKind,
  type NarrationFields, type NarrationLevel, type Narrator, type Plan, type PoolConfig, type PreparedEngine, type Provisioner, type ProvisionerRegistry,
  type ProvisioningMode, type StartedData, type SubmitOpts, type TaskRequest, type TaskSubmission, type TokenEvent, type WorkerAdapter, type WorkerErrorData,
  type WorkerErrorKind, type WorkerHealth, type WorkerProps, type Sampling, type SamplingParam,
  type PrepareOptions, type ProvisionProgress, type ProvisioningPolicy,
} from '../index.js'
// not yet re-exported by sdk/index.ts (issue 11): imported from its module

/** The keys of T that an implementation must provide, and those it may leave out. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T]
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>
type EventData<K extends TokenEvent['kind']> = Extract<TokenEvent, { kind: K }>['data']

describe('extension descriptor', () => {
  test('EXTENSION_API is the literal 1, so a descriptor built against another API fails to load', () => {
    expect(EXTENSION_API).type.toBe<1>()
  })

  test('ExtensionDescriptor and ExtensionKind', () => {
    expect<ExtensionKind>().type.toBe<'adapter' | 'provisioner'>()
    expect<ExtensionDescriptor>().type.toBe<{
      kind: ExtensionKind
      apiVersion: number
      optionsSchema: TSchema
      engines?: string[]
      handles?: Array<{ engine: string, mode: ProvisioningMode }>
      checkPool?: (pool: PoolConfig) => Array<{ path: string, message: string }>
      description?: string
    }>()
  })
})

describe('TaskRequest', () => {
  test('field names, optionality and enums', () => {
    expect<TaskRequest>().type.toBe<{
      task_id: string
      session_id: string
      workload: 'completion' | 'embedding' | 'rerank'
      model_ref: string
      engine: string
      ctx: number
      priority: 'interactive' | 'batch'
      seed?: number
      determinism?: 'strict' | 'best_effort'
      sampler_profile_version?: string
      prompt?: string
      inputs?: string[]
      max_tokens: number
      deadline_ms: number
      expected_tokens?: number
      kv_hint?: 'reuse' | 'cold'
      stop?: string[]
      sampling?: Sampling
      placement?: { pin_pool_id: string, pin_replica_id?: string }
      messages?: Array<{ role: 'system' | 'user' | 'assistant', content: string }>
    }>()
  })

  test('TaskSubmission, the POST /v1/tasks body: only model_ref is required (issue 11 item 4)', () => {
    expect<TaskSubmission>().type.toBe<{
      task_id?: string
      session_id?: string
      workload?: 'completion' | 'embedding' | 'rerank'
      model_ref: string
      engine?: string
      ctx?: number
      priority?: 'interactive' | 'batch'
      seed?: number
      determinism?: 'strict' | 'best_effort'
      sampler_profile_version?: string
      prompt?: string
      inputs?: string[]
      max_tokens?: number
      deadline_ms?: number
      expected_tokens?: number
      kv_hint?: 'reuse' | 'cold'
      stop?: string[]
      sampling?: Sampling
      placement?: { pin_pool_id: string, pin_replica_id?: string }
      messages?: Array<{ role: 'system' | 'user' | 'assistant', content: string }>
    }>()
    expect<TaskRequest>().type.toBeAssignableTo<TaskSubmission>()
  })
})

describe('sampling (issue 11 item 2)', () => {
  test('Sampling: every parameter optional, a response format of two kinds', () => {
    expect<Sampling>().type.toBe<{
      temperature?: number
      top_p?: number
      top_k?: number
      min_p?: number
      presence_penalty?: number
      frequency_penalty?: number
      repeat_penalty?: number
      logit_bias?: Record<string, number>
      response_format?: { type: 'json_object' } | { type: 'json_schema', schema: object }
    }>()
    expect<SamplingParam>().type.toBe<keyof Sampling>()
  })
})

describe('token events', () => {
  test('the union has exactly five members', () => {
    expect<TokenEvent['kind']>().type.toBe<'started' | 'token' | 'metrics' | 'end' | 'error'>()
  })

  test('the data of each member', () => {
    expect<EventData<'started'>>().type.toBe<StartedData>()
    expect<StartedData>().type.toBe<{
      engine: string
      engine_version: string
      sampler_profile_version?: string
      model_digest?: string
      seed?: number
      tokens_in?: number
      pool_id: string
      replica_id: string
    }>()
    expect<EventData<'token'>>().type.toBe<{ t: string, i: number }>()
    expect<EventData<'metrics'>>().type.toBe<Record<string, number | boolean | string>>()
    expect<EventData<'end'>>().type.toBe<EndData>()
    expect<EndData>().type.toBe<{
      tokens_out: number, decode_time_ms: number, tokens_in?: number, stop_reason: 'eos' | 'length' | 'stop' | 'canceled', embeddings?: number[][]
    }>()
    expect<EventData<'error'>>().type.toBe<WorkerErrorData>()
    expect<WorkerErrorData>().type.toBe<{
      kind: WorkerErrorKind
      message: string
      retriable: boolean
      retry_after_ms?: number
      upstream_status?: number
      engine: string
    }>()
    expect<WorkerErrorKind>().type.toBe<'DEADLINE_UNMET' | 'POOL_UNAVAILABLE' | 'DECODE_TIMEOUT' | 'WORKER_RESET' | 'INTERNAL' | 'ADAPTER'>()
  })

  test('kind narrows data', () => {
    expect<{ kind: 'token', data: { t: string, i: number } }>().type.toBeAssignableTo<TokenEvent>()
    expect<{ kind: 'token', data: EndData }>().type.not.toBeAssignableTo<TokenEvent>()
  })
})

describe('WorkerAdapter', () => {
  test('required and optional members', () => {
    expect<RequiredKeys<WorkerAdapter>>().type.toBe<'engine' | 'health' | 'props' | 'submit' | 'cancel' | 'engineVersion' | 'close'>()
    expect<OptionalKeys<WorkerAdapter>>().type.toBe<'capabilities' | 'scrapeMetrics' | 'freeSession'>()
  })

  test('method signatures', () => {
    expect<WorkerAdapter['engine']>().type.toBe<string>()
    expect<WorkerAdapter['health']>().type.toBe<(o?: CallOpts) => Promise<WorkerHealth>>()
    expect<WorkerAdapter['props']>().type.toBe<(o?: CallOpts) => Promise<WorkerProps>>()
    expect<WorkerAdapter['submit']>().type.toBe<(req: TaskRequest, o: SubmitOpts) => AsyncIterable<TokenEvent>>()
    expect<WorkerAdapter['cancel']>().type.toBe<(taskId: string) => Promise<void>>()
    expect<WorkerAdapter['engineVersion']>().type.toBe<(o?: CallOpts) => Promise<string>>()
    expect<WorkerAdapter['close']>().type.toBe<() => Promise<void>>()
    expect<NonNullable<WorkerAdapter['capabilities']>>().type.toBe<(o?: CallOpts) => Promise<CapabilitySnapshot>>()
    expect<NonNullable<WorkerAdapter['scrapeMetrics']>>().type.toBe<(o?: CallOpts) => Promise<EngineMetricsSnapshot>>()
    expect<NonNullable<WorkerAdapter['freeSession']>>().type.toBe<(sessionId: string, o?: CallOpts) => Promise<void>>()
  })

  test('what the adapter receives and reports', () => {
    expect<CallOpts>().type.toBe<{ signal?: AbortSignal, timeoutMs?: number }>()
    expect<SubmitOpts>().type.toBe<{ signal: AbortSignal, deadlineAt: number, poolId: string, replicaId: string }>()
    expect<WorkerHealth>().type.toBe<{ live: boolean, ready: boolean }>()
    expect<WorkerProps>().type.toBe<{ slots_total: number | null, slots_free: number | null, ctx_max?: number | null, engine_version?: string | null }>()
  })

  test('an async generator is a valid submit', () => {
    const adapter = {
      engine: 'x',
      health: async () => ({ live: true, ready: true }),
      props: async () => ({ slots_total: 1, slots_free: 1 }),
      async * submit (): AsyncGenerator<TokenEvent> { yield { kind: 'end', data: { tokens_out: 0, decode_time_ms: 0, stop_reason: 'eos' } } },
      cancel: async () => {},
      engineVersion: async () => '1',
      close: async () => {},
    }
    expect(adapter).type.toBeAssignableTo<WorkerAdapter>()
    const { close: _close, ...withoutClose } = adapter
    expect(withoutClose).type.not.toBeAssignableTo<WorkerAdapter>()
  })
})

describe('adapter registration', () => {
  test('AdapterFactory and AdapterBinding', () => {
    expect<AdapterFactory>().type.toBe<{ engine: string, create: (binding: AdapterBinding) => WorkerAdapter }>()
    expect<AdapterBinding>().type.toBe<{ poolId: string, replicaId: string, baseUrl: string, pool: PoolConfig }>()
    expect<AdapterRegistry['add']>().type.toBe<(factory: AdapterFactory) => void>()
    expect<AdapterRegistry['get']>().type.toBe<(engine: string) => AdapterFactory | undefined>()
  })
})

describe('provisioners', () => {
  test('Provisioner', () => {
    expect<RequiredKeys<Provisioner>>().type.toBe<'name' | 'handles' | 'plan' | 'prepare'>()
    expect<Provisioner['handles']>().type.toBe<ReadonlyArray<{ engine: string, mode: ProvisioningMode }>>()
    expect<Provisioner['plan']>().type.toBe<(pool: PoolConfig) => Plan>()
    expect<Provisioner['prepare']>().type.toBe<(pool: PoolConfig, o?: PrepareOptions) => Promise<PreparedEngine>>()
    expect<PrepareOptions>().type.toBe<{
      signal?: AbortSignal
      model?: { id: string, local_path: string }
      progress?: (p: ProvisionProgress) => void
    }>()
    expect<ProvisionProgress>().type.toBe<{ step: string, line?: string, done?: number, total?: number, unit?: 'steps' | 'bytes' }>()
    expect<ProvisioningMode>().type.toBe<'external' | 'source' | 'container' | 'package' | 'binary' | 'embedded'>()
  })

  test('PreparedEngine', () => {
    expect<PreparedEngine>().type.toBe<{
      engine: string
      version: string
      build_ref: string | null
      digest: string | null
      build_flags: string[] | null
      mode: ProvisioningMode
      compute_mode: 'gpu' | 'cpu'
      binary_path: string | null
      engine_catalog_id: string | null
      bin: string
      args: string[]
      env: Record<string, string>
      ports: number[]
      workdir: string
      health: { url: string, kind: string }
      stop_grace_ms?: number
    }>()
  })

  test('ProvisionerRegistry, with recordEngine', () => {
    expect<RequiredKeys<ProvisionerRegistry>>().type.toBe<'policy' | 'add' | 'get' | 'list' | 'providerFor' | 'recordEngine'>()
    expect<ProvisionerRegistry['policy']>().type.toBe<ProvisioningPolicy>()
    expect<ProvisioningPolicy>().type.toBe<{
      allow_outbound_network: boolean
      outbound_allowlist: string[]
      allow_package_installs: boolean
      allow_binary_downloads: boolean
    }>()
    expect<ProvisionerRegistry['providerFor']>().type.toBe<(engine: string, mode: ProvisioningMode) => Provisioner | undefined>()
    expect<ProvisionerRegistry['recordEngine']>().type.toBe<(build: EngineBuild) => Promise<string>>()
    expect<EngineBuild>().type.toBe<{
      engine: string
      version: string
      build_ref: string | null
      digest: string | null
      build_flags: string[] | null
      artifacts: string[]
      compute_mode?: 'gpu' | 'cpu'
      build_log?: string
    }>()
  })
})

describe('ApiError and ErrorKind', () => {
  test('ErrorKind is the closed enum of the public API', () => {
    expect<ErrorKind>().type.toBe<
      | 'ADMISSION_REJECT' | 'QUEUE_FULL_DROP_LRU' | 'INVALID_PARAMS' | 'DEADLINE_UNMET' | 'POOL_UNREADY' | 'POOL_UNAVAILABLE'
      | 'REPLICA_EXHAUSTED' | 'DECODE_TIMEOUT' | 'WORKER_RESET' | 'INTERNAL' | 'MODEL_DEPRECATED' | 'UNTRUSTED_ARTIFACT'
    >()
  })

  test('the constructor takes a kind, a message and options', () => {
    expect(ApiError).type.toBeConstructableWith('POOL_UNAVAILABLE', 'no replica is ready')
    expect(ApiError).type.toBeConstructableWith('INVALID_PARAMS', 'unknown task', {
      status: 404,
      engine: 'vllm',
      pool_id: 'p0',
      retry_after_ms: 100,
      policy_label: 'x',
    })
    expect(ApiError).type.not.toBeConstructableWith('NOT_A_KIND', 'message')
    expect(ApiError).type.not.toBeConstructableWith('INTERNAL')
    expect<ApiErrorOptions>().type.toBe<{
      engine?: string | undefined
      pool_id?: string | undefined
      retry_after_ms?: number | undefined
      policy_label?: string | undefined
      status?: number | undefined
    }>()
  })

  test('an instance is an Error with a code, a status and an envelope', () => {
    const e = new ApiError('WORKER_RESET', 'the engine dropped the stream')
    expect(e).type.toBeAssignableTo<Error>()
    expect(e.code).type.toBe<ErrorKind>()
    expect(e.statusCode).type.toBe<number>()
    expect(e.envelope()).type.toBe<ErrorEnvelope>()
    expect<ErrorEnvelope>().type.toBe<{
      code: ErrorKind
      message: string
      engine?: string
      retriable?: boolean
      retry_after_ms?: number
      policy_label?: string
      pool_id?: string
    }>()
  })
})

describe('Narrator', () => {
  test('narrate and child', () => {
    expect<Narrator['narrate']>().type.toBe<(fields: NarrationFields, human: string, level?: NarrationLevel) => void>()
    expect<Narrator['child']>().type.toBe<(bindings: Record<string, unknown>) => Narrator>()
    expect<NarrationLevel>().type.toBe<'debug' | 'info' | 'warn' | 'error'>()
  })

  test('fields: actor from the spec, any action, a target, extra ids', () => {
    const narrate = (null as unknown as Narrator).narrate
    expect(narrate).type.toBeCallableWith({ actor: 'adapter', action: 'retry', target: 'vllm', attempt: 2 }, 'retries in 100 ms', 'warn')
    expect(narrate).type.toBeCallableWith({ actor: 'engine-provisioner', action: 'my-extension-step', target: 'p0' }, 'did a step')
    expect(narrate).type.not.toBeCallableWith({ actor: 'somebody', action: 'start', target: 'p0' }, 'h')
    expect(narrate).type.not.toBeCallableWith({ actor: 'adapter', action: 'start' }, 'no target')
    expect(narrate).type.not.toBeCallableWith({ actor: 'adapter', action: 'start', target: 'p0' }, 'h', 'fatal')
  })
})

describe('Fastify decorators', () => {
  test('importing the SDK types app.narration, app.adapters, app.adapterHost and app.provisioners', () => {
    expect<FastifyInstance['narration']>().type.toBe<Narrator>()
    expect<FastifyInstance['adapters']>().type.toBe<AdapterRegistry>()
    expect<FastifyInstance['adapterHost']>().type.toBe<AdapterHost>()
    expect<FastifyInstance['provisioners']>().type.toBe<ProvisionerRegistry>()
  })
})
