import fp from 'fastify-plugin'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { httpAdapterPlugin } from '../../lib/adapter-kit/plugin.js'
import { LlamacppOptions, llamacppProtocol } from './llamacpp.js'

/** Built-in adapter `llamacpp`: llama.cpp's llama-server over its native HTTP API. */
export const extension: ExtensionDescriptor = {
  kind: 'adapter',
  apiVersion: EXTENSION_API,
  engines: ['llamacpp'],
  optionsSchema: LlamacppOptions,
  description: 'llama.cpp llama-server: /completion SSE, /health, /props, /slots, /tokenize, /metrics',
}

export default fp(httpAdapterPlugin('llamacpp', llamacppProtocol), {
  name: NAMES.adapterLlamacpp,
  fastify: '5.x',
  dependencies: [NAMES.adapters, NAMES.narration],
  decorators: { fastify: ['adapters', 'narration'] },
})

export { LlamacppOptions, llamacppProtocol } from './llamacpp.js'
