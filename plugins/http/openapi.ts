import type { FastifyPluginAsync } from 'fastify'

/** `GET /v1/openapi.json`: the OpenAPI document built from the schemas of the registered routes. */
export const openapiRoute: FastifyPluginAsync = async (app) => {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
