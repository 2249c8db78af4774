import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from 'typebox'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { containerPoolIssues } from '../../lib/provision/container-provider.js'
import { createVllmProvisioner, VLLM_ENGINE } from './provisioner.js'
import { VLLM_HANDLES } from './handles.js'

export const VllmProviderOptions = Type.Object({}, { additionalProperties: false })
export type VllmProviderOptions = Static<typeof VllmProviderOptions>

export const extension: ExtensionDescriptor = {
  kind: 'provisioner',
  apiVersion: EXTENSION_API,
  optionsSchema: VllmProviderOptions,
  handles: [...VLLM_HANDLES],
  checkPool: (pool) => containerPoolIssues(pool, VLLM_ENGINE),
  description: 'vLLM in a podman or docker container: image pulled through the outbound gate when absent, run by digest',
}

/** Built-in provider `vllm`: pools with `engine: vllm` in mode container (the default for vllm). */
const vllmProvider: FastifyPluginAsync<VllmProviderOptions> = async (app) => {
  app.provisioners.add(createVllmProvisioner({
    policy: app.provisioners.policy,
    narrate: (pool) => (action, human, fields, level) =>
      app.narration.narrate({ actor: 'engine-provisioner', action, target: pool.id, engine: 'vllm', ...fields }, human, level),
    registerEngine: (build) => app.provisioners.recordEngine(build),
  }))
}

export default fp(vllmProvider, {
  name: NAMES.providerVllm,
  fastify: '5.x',
  dependencies: [NAMES.provisioners],
  decorators: { fastify: ['provisioners', 'narration'] },
})
