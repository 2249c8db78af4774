import createError from '@fastify/error'

export const ORC_ERR_METRICS_SCRAPE = createError<[string, number]>(
  'ORC_ERR_METRICS_SCRAPE',
  'GET %s answered %s; expected 200 with a Prometheus text body (is the URL the server\'s /metrics?)',
  502
)
