import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

/** `GET /v1/openapi.json`: the OpenAPI document built from the schemas of the registered routes. */
export const openapiRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
