import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from 'typebox'
import { NAMES } from '../../lib/names.js'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import { createEmbeddedProvisioner } from './provisioner.js'
import { EMBEDDED_HANDLES } from './handles.js'
import { embeddedPoolIssues } from './pool-check.js'

export const EmbeddedOptions = Type.Object({
  threads: Type.Optional(Type.Integer({ minimum: 1, description: 'decode threads when a pool\'s flags do not set --threads; default 1 on ≤ 2 cores' })),
}, { additionalProperties: false })
export type EmbeddedOptions = Static<typeof EmbeddedOptions>

export const extension: ExtensionDescriptor = {
  kind: 'provisioner',
  apiVersion: EXTENSION_API,
  optionsSchema: EmbeddedOptions,
  handles: [...EMBEDDED_HANDLES],
  // flags the worker does not take are refused by config check and boot, never dropped
  checkPool: embeddedPoolIssues,
  description: 'llama.cpp in a child process per replica via node-llama-cpp (prebuilt binary, no GPU or download needed)',
}

/** Built-in provider `embedded`: handles pools with `engine: llamacpp, provisioning.mode: embedded`. */
const embeddedProvider: FastifyPluginAsync<EmbeddedOptions> = async (app, opts) => {
  app.provisioners.add(createEmbeddedProvisioner({
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    narrate: (fields, human, level) => app.narration.narrate(fields, human, level),
    // a prebuilt binary: nothing was built, so no build ref or flags
    registerEngine: (e) => app.provisioners.recordEngine({ ...e, build_ref: null, build_flags: null }),
  }))
}

export default fp(embeddedProvider, {
  name: NAMES.embedded,
  fastify: '5.x',
  dependencies: [NAMES.provisioners],
  decorators: { fastify: ['provisioners', 'narration'] },
})
