import fp from 'fastify-plugin'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { httpAdapterPlugin } from '../../lib/adapter-kit/plugin.js'
import { TgiOptions, tgiProtocol } from './tgi.js'

/** Built-in adapter `tgi`: Hugging Face Text Generation Inference. */
export const extension: ExtensionDescriptor = {
  kind: 'adapter',
  apiVersion: EXTENSION_API,
  engines: ['tgi'],
  optionsSchema: TgiOptions,
  description: 'Hugging Face TGI: /generate_stream, /info, /health',
}

export default fp(httpAdapterPlugin('tgi', tgiProtocol), {
  name: NAMES.adapterTgi,
  fastify: '5.x',
  dependencies: [NAMES.adapters, NAMES.narration],
  decorators: { fastify: ['adapters', 'narration'] },
})

export { TgiOptions, tgiProtocol } from './tgi.js'
