import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from 'typebox'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { containerPoolIssues } from '../../lib/provision/container-provider.js'
import { createTritonProvisioner, TRITON_ENGINE } from './provisioner.js'
import { TRITON_HANDLES } from './handles.js'

export const TritonProviderOptions = Type.Object({}, { additionalProperties: false })
export type TritonProviderOptions = Static<typeof TritonProviderOptions>

export const extension: ExtensionDescriptor = {
  kind: 'provisioner',
  apiVersion: EXTENSION_API,
  optionsSchema: TritonProviderOptions,
  handles: [...TRITON_HANDLES],
  checkPool: (pool) => [
    ...containerPoolIssues(pool, TRITON_ENGINE),
    // the context length is baked into the TensorRT-LLM engine (max_seq_len) when it is built
    ...(pool.ctx != null ? [{ path: '/ctx', message: 'cannot be honoured by Triton (the model repository\'s engine fixes it); remove it' }] : []),
  ],
  description: 'NVIDIA Triton / TensorRT-LLM in a podman or docker container: image pulled through the outbound gate when absent, run by digest',
}

/** Built-in provider `triton`: pools with `engine: triton` in mode container (the default for triton). */
const tritonProvider: FastifyPluginAsync<TritonProviderOptions> = async (app) => {
  app.provisioners.add(createTritonProvisioner({
    policy: app.provisioners.policy,
    narrate: (pool) => (action, human, fields, level) =>
      app.narration.narrate({ actor: 'engine-provisioner', action, target: pool.id, engine: 'triton', ...fields }, human, level),
    registerEngine: (build) => app.provisioners.recordEngine(build),
  }))
}

export default fp(tritonProvider, {
  name: NAMES.providerTriton,
  fastify: '5.x',
  dependencies: [NAMES.provisioners],
  decorators: { fastify: ['provisioners', 'narration'] },
})
