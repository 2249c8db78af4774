import fp from 'fastify-plugin'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { httpAdapterPlugin } from '../../lib/adapter-kit/plugin.js'
import { OpenAiOptions, openAiProtocol } from './openai.js'

/** Built-in adapter `openai`: a remote OpenAI-compatible API; loaded only when the manifest lists it. */
export const extension: ExtensionDescriptor = {
  kind: 'adapter',
  apiVersion: EXTENSION_API,
  engines: ['openai'],
  optionsSchema: OpenAiOptions,
  description: 'remote OpenAI-compatible API: /chat/completions or /completions streaming, bearer key from options or environment',
}

export default fp(httpAdapterPlugin('openai', openAiProtocol), {
  name: NAMES.adapterOpenai,
  fastify: '5.x',
  dependencies: [NAMES.adapters, NAMES.narration],
  decorators: { fastify: ['adapters', 'narration'] },
})

export { OpenAiOptions, openAiProtocol, OPENAI_BASE_URL } from './openai.js'
