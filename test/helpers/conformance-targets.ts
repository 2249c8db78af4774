/**
 * Conformance targets: each built-in adapter paired with its fake engine. To run the
 * llamacpp suite against another llama-server-compatible server (the embedded worker),
 * spread `llamacppTarget` and replace `start` with one that launches that server.
 */
import type { TSchema } from 'typebox'
import type { AdapterBinding } from '../../sdk/index.js'
import { standaloneAdapter, type KitContext } from '../../lib/adapter-kit/plugin.js'
import type { EngineProtocol } from '../../lib/adapter-kit/protocol.js'
import type { HttpOptions } from '../../lib/adapter-kit/options.js'
import type { RetryInfo } from '../../lib/http-client/client.js'
import { LlamacppOptions, llamacppProtocol } from '../../extensions/adapter-llamacpp/llamacpp.js'
import { DEFAULT_TOKENS } from '../fixtures/engines/fake-engine.js'
import { fakeLlamaServer } from '../fixtures/engines/llama-server.js'
import { fakeOpenAi, fakeVllm } from '../fixtures/engines/openai-compat.js'
import { fakeTgi } from '../fixtures/engines/tgi.js'
import { fakeTriton } from '../fixtures/engines/triton.js'
import { TritonOptions, tritonProtocol } from '../../extensions/adapter-triton/triton.js'
import { TgiOptions, tgiProtocol } from '../../extensions/adapter-tgi/tgi.js'
import { OpenAiOptions, openAiProtocol } from '../../extensions/adapter-openai/openai.js'
import { VllmOptions, vllmProtocol } from '../../extensions/adapter-vllm/vllm.js'
import type { ConformanceTarget } from './adapter-conformance.js'
import { manifestOf } from './build.js'

/** A binding for one replica of a pool of `engine` at `url`. */
export function bindingFor (engine: string, url: string, pool: Record<string, unknown> = {}): AdapterBinding {
  const cfg = manifestOf({
    pools: [{ id: 'p0', engine, model: 'tiny', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] }, ...pool }],
  }).pools[0]!
  return { poolId: 'p0', replicaId: 'r0', baseUrl: url, pool: cfg }
}

type Protocol<O> = (binding: AdapterBinding, options: O, kit: KitContext) => EngineProtocol

/** A target's `adapter()` for a built-in adapter and its options. */
export function kitAdapter<O extends { http: HttpOptions }> (
  engine: string,
  schema: TSchema,
  protocol: Protocol<O>,
  options: Record<string, unknown> = {},
  pool: Record<string, unknown> = {}
) {
  return (url: string, http: Record<string, unknown>, onRetry: (i: RetryInfo) => void) => {
    const { adapter, client } = standaloneAdapter(schema, protocol, bindingFor(engine, url, pool), { ...options, http }, { onRetry })
    return { adapter, close: async () => { await adapter.close(); await client.close() } }
  }
}

export const llamacppTarget: ConformanceTarget = {
  engine: 'llamacpp',
  generatePath: '/completion',
  async start () {
    const fake = await fakeLlamaServer()
    return { url: fake.url, tokens: DEFAULT_TOKENS, tokensOut: DEFAULT_TOKENS.length + 1, fake, close: () => fake.close() }
  },
  adapter: kitAdapter('llamacpp', LlamacppOptions, llamacppProtocol),
}

export const vllmTarget: ConformanceTarget = {
  engine: 'vllm',
  generatePath: '/v1/completions',
  async start () {
    const fake = await fakeVllm()
    return { url: fake.url, tokens: DEFAULT_TOKENS, tokensOut: DEFAULT_TOKENS.length, fake, close: () => fake.close() }
  },
  adapter: kitAdapter('vllm', VllmOptions, vllmProtocol),
}

export const OPENAI_TEST_KEY = 'sk-canary123456'

export const openaiTarget: ConformanceTarget = {
  engine: 'openai',
  generatePath: '/chat/completions',
  async start () {
    const fake = await fakeOpenAi({ key: OPENAI_TEST_KEY })
    return { url: fake.url, tokens: DEFAULT_TOKENS, tokensOut: DEFAULT_TOKENS.length, fake, close: () => fake.close() }
  },
  adapter: kitAdapter('openai', OpenAiOptions, openAiProtocol, { model: 'gpt-fake', api_key: OPENAI_TEST_KEY, health_cache_ms: 0 }),
}

/** The same remote API through the Responses endpoint (`api: responses`). */
export const openaiResponsesTarget: ConformanceTarget = {
  ...openaiTarget,
  generatePath: '/responses',
  adapter: kitAdapter('openai', OpenAiOptions, openAiProtocol, { model: 'gpt-fake', api_key: OPENAI_TEST_KEY, health_cache_ms: 0, api: 'responses' }),
}

export const tgiTarget: ConformanceTarget = {
  engine: 'tgi',
  generatePath: '/generate_stream',
  async start () {
    const fake = await fakeTgi()
    return { url: fake.url, tokens: DEFAULT_TOKENS, tokensOut: DEFAULT_TOKENS.length + 1, fake, close: () => fake.close() }
  },
  adapter: kitAdapter('tgi', TgiOptions, tgiProtocol),
}

export const tritonTarget: ConformanceTarget = {
  engine: 'triton',
  generatePath: '/v2/models/ensemble/generate_stream',
  async start () {
    const fake = await fakeTriton()
    return { url: fake.url, tokens: DEFAULT_TOKENS, tokensOut: DEFAULT_TOKENS.length, fake, close: () => fake.close() }
  },
  adapter: kitAdapter('triton', TritonOptions, tritonProtocol, { model: 'ensemble' }),
}
