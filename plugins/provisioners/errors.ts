import createError from '@fastify/error'

export const ORC_ERR_PROVISIONERS_DUPLICATE = createError<[string]>(
  'ORC_ERR_PROVISIONERS_DUPLICATE',
  'llama-orch: a provisioner named "%s" is already registered; each provider may be enabled once',
  500
)
