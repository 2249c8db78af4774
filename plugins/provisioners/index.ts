import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import type {} from '../catalog/index.js'
import type { ProvisioningPolicy } from '../../sdk/index.js'
import { CLOSED_POLICY, createProvisionerRegistry } from './registry.js'

/**
 * Registry that enabled provider plugins add themselves to (`app.provisioners.add`); through it
 * a provider records the engine builds it prepares in the catalog (`recordEngine`).
 */
const provisionersPlugin: FastifyPluginAsync<{ policy?: ProvisioningPolicy }> = async (app, opts) => {
  const policy = opts.policy ?? CLOSED_POLICY
  app.decorate('provisioners', createProvisionerRegistry((build) => app.catalog.recordEngine(build), {
    allow_outbound_network: policy.allow_outbound_network,
    outbound_allowlist: [...policy.outbound_allowlist],
    allow_package_installs: policy.allow_package_installs,
    allow_binary_downloads: policy.allow_binary_downloads,
  }))
}

export default fp(provisionersPlugin, {
  name: NAMES.provisioners,
  fastify: '5.x',
  dependencies: [NAMES.catalog],
  decorators: { fastify: ['catalog'] },
})
