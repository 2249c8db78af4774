/**
 * The model gate (ORCH-3421 gate 1) is the model provisioner (`app.models.ensurePresent`):
 * the model is present locally, verified against the configured digest, and registered in
 * the catalog. A model the catalog holds as Retired does not pass: retiring it is how an
 * operator takes it out of service (spec pools §4.7).
 */
import type { ResolvedModel } from '../../lib/catalog-store/entries.js'
import type { ModelProvisioner } from '../models/index.js'
import { ORC_ERR_POOL_MODEL_RETIRED } from './errors.js'

export type { ResolvedModel }

export type ModelGate = (ref: string, expectedDigest?: string | null) => Promise<ResolvedModel>

export function createModelGate (models: Pick<ModelProvisioner, 'ensurePresent'>, engine: string): ModelGate {
  return async (ref, digest) => {
    const model = await models.ensurePresent(ref, digest, { engine })
    if (model.lifecycle === 'Retired') {
      throw new ORC_ERR_POOL_MODEL_RETIRED(model.id)
    }
    return model
  }
}
