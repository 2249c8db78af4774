import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from 'typebox'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { createLlamacppProvisioner } from './provisioner.js'
import { LLAMACPP_HANDLES } from './handles.js'

export const LlamacppProviderOptions = Type.Object({
  cache_dir: Type.Optional(Type.String({ minLength: 1, description: 'engine cache root (sources, builds, downloads); default ~/.cache/llama-orch' })),
  jobs: Type.Optional(Type.Integer({ minimum: 1, description: 'parallel compile jobs of a source build; default: every core' })),
}, { additionalProperties: false })
export type LlamacppProviderOptions = Static<typeof LlamacppProviderOptions>

export const extension: ExtensionDescriptor = {
  kind: 'provisioner',
  apiVersion: EXTENSION_API,
  optionsSchema: LlamacppProviderOptions,
  handles: [...LLAMACPP_HANDLES],
  description: 'llama-server built from source (ccache, CUDA with CPU fallback), downloaded as a verified binary, or installed as a system package',
}

/** Built-in provider `llamacpp`: pools with `engine: llamacpp` in mode source (the default), binary or package. */
const llamacppProvider: FastifyPluginAsync<LlamacppProviderOptions> = async (app, opts) => {
  app.provisioners.add(createLlamacppProvisioner({
    policy: app.provisioners.policy,
    ...(opts.cache_dir !== undefined ? { cacheRoot: opts.cache_dir } : {}),
    ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
    narrate: (action, human, fields, level) => app.narration.narrate({ actor: 'engine-provisioner', action, target: 'llamacpp', ...fields }, human, level),
    registerEngine: (build) => app.provisioners.recordEngine(build),
  }))
}

export default fp(llamacppProvider, {
  name: NAMES.providerLlamacpp,
  fastify: '5.x',
  dependencies: [NAMES.provisioners],
  decorators: { fastify: ['provisioners', 'narration'] },
})
