import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from 'typebox'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { containerPoolIssues } from '../../lib/provision/container-provider.js'
import { createTgiProvisioner, TGI_ENGINE } from './provisioner.js'
import { TGI_HANDLES } from './handles.js'

export const TgiProviderOptions = Type.Object({}, { additionalProperties: false })
export type TgiProviderOptions = Static<typeof TgiProviderOptions>

export const extension: ExtensionDescriptor = {
  kind: 'provisioner',
  apiVersion: EXTENSION_API,
  optionsSchema: TgiProviderOptions,
  handles: [...TGI_HANDLES],
  checkPool: (pool) => containerPoolIssues(pool, TGI_ENGINE),
  description: 'Hugging Face TGI in a podman or docker container: image pulled through the outbound gate when absent, run by digest',
}

/** Built-in provider `tgi`: pools with `engine: tgi` in mode container (the default for tgi). */
const tgiProvider: FastifyPluginAsync<TgiProviderOptions> = async (app) => {
  app.provisioners.add(createTgiProvisioner({
    policy: app.provisioners.policy,
    narrate: (pool) => (action, human, fields, level) =>
      app.narration.narrate({ actor: 'engine-provisioner', action, target: pool.id, engine: 'tgi', ...fields }, human, level),
    registerEngine: (build) => app.provisioners.recordEngine(build),
  }))
}

export default fp(tgiProvider, {
  name: NAMES.providerTgi,
  fastify: '5.x',
  dependencies: [NAMES.provisioners],
  decorators: { fastify: ['provisioners', 'narration'] },
})
