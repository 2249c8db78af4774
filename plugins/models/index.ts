import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import type { FetchConfig } from '../catalog/index.js'
import { createModelProvisioner, type ModelProvisioner } from './provisioner.js'
import type { OutboundPolicy } from './policy.js'
import type { CommandRunner } from './tools.js'

declare module 'fastify' {
  interface FastifyInstance { models: ModelProvisioner }
}

export interface ModelsOptions {
  policy: OutboundPolicy
  fetch: FetchConfig
  /** Tests inject a fake for huggingface-cli, aws and oras. */
  runner?: CommandRunner
  env?: NodeJS.ProcessEnv
}

/**
 * The model provisioner (spec pools-provisioning-catalog.md §3): `app.models.ensurePresent`
 * stages a model ref into the catalog root and registers it Active once verified. The pool
 * manager calls it at preload (the model gate of the three-gate rule).
 */
const modelsPlugin: FastifyPluginAsync<ModelsOptions> = async (app, opts) => {
  app.decorate('models', createModelProvisioner({
    store: app.catalog.store,
    policy: opts.policy,
    fetch: opts.fetch,
    narrate: app.narration.narrate.bind(app.narration),
    counter: app.metrics.catalog_verifications_total,
    ...(opts.runner ? { runner: opts.runner } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  }))
}

export default fp(modelsPlugin, {
  name: NAMES.models,
  fastify: '5.x',
  dependencies: [NAMES.catalog],
  decorators: { fastify: ['catalog', 'narration', 'metrics'] },
})

export { createModelProvisioner, type ModelProvisioner, type EnsureOptions } from './provisioner.js'
export { ModelError } from './errors.js'
export type { OutboundPolicy } from './policy.js'
export type { CommandRunner } from './tools.js'
