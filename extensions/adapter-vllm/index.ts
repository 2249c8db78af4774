import fp from 'fastify-plugin'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { httpAdapterPlugin } from '../../lib/adapter-kit/plugin.js'
import { VllmOptions, vllmProtocol } from './vllm.js'

/** Built-in adapter `vllm`: vLLM's OpenAI-compatible server. */
export const extension: ExtensionDescriptor = {
  kind: 'adapter',
  apiVersion: EXTENSION_API,
  engines: ['vllm'],
  optionsSchema: VllmOptions,
  description: 'vLLM: /v1/completions (or chat) streaming, /health, /version, /v1/models, /metrics',
}

export default fp(httpAdapterPlugin('vllm', vllmProtocol), {
  name: NAMES.adapterVllm,
  fastify: '5.x',
  dependencies: [NAMES.adapters, NAMES.narration],
  decorators: { fastify: ['adapters', 'narration'] },
})

export { VllmOptions, vllmProtocol } from './vllm.js'
