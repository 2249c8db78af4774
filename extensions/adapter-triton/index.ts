import fp from 'fastify-plugin'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { httpAdapterPlugin } from '../../lib/adapter-kit/plugin.js'
import { TritonOptions, tritonProtocol } from './triton.js'

/** Built-in adapter `triton`: NVIDIA Triton / TensorRT-LLM over HTTP. */
export const extension: ExtensionDescriptor = {
  kind: 'adapter',
  apiVersion: EXTENSION_API,
  engines: ['triton'],
  optionsSchema: TritonOptions,
  description: 'NVIDIA Triton / TensorRT-LLM: generate_stream, /v2/health/ready, model config, :8002/metrics',
}

export default fp(httpAdapterPlugin('triton', tritonProtocol), {
  name: NAMES.adapterTriton,
  fastify: '5.x',
  dependencies: [NAMES.adapters, NAMES.narration],
  decorators: { fastify: ['adapters', 'narration'] },
})

export { TritonOptions, tritonProtocol } from './triton.js'
