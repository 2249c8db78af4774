import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { createNarrator, type Narrator } from './narrate.js'

declare module 'fastify' {
  interface FastifyInstance { narration: Narrator }
}

/** Narration over the app's own pino instance, so there is one logger and one redaction layer. */
const narrationPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('narration', createNarrator(app.log as unknown as Narrator['logger']))
}

export default fp(narrationPlugin, {
  name: NAMES.narration,
  fastify: '5.x',
  dependencies: [NAMES.correlation],
})

export { createNarrator, capHuman, HUMAN_STYLE_MAX, HUMAN_HARD_MAX } from './narrate.js'
export type { Narrator, NarrationFields, Actor, Action } from './narrate.js'
export { createLogger } from './logger.js'
export { createCapture, type Capture, type LogRecord } from './capture.js'
export { narrationCoverage, REQUIRED_FLOWS } from './coverage.js'
export { redactString, redactValue } from '../../sdk/redact.js'
