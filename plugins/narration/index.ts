import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import type {} from '../../sdk/index.js'
import { createNarrator } from './narrate.js'

/**
 * Narration over the app's own pino instance, so there is one logger and one redaction layer.
 * `app.narration` is typed by the SDK, which extensions narrate through.
 */
const narrationPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('narration', createNarrator(app.log))
}

export default fp(narrationPlugin, {
  name: NAMES.narration,
  fastify: '5.x',
  dependencies: [NAMES.correlation],
})

export { createNarrator, capHuman, HUMAN_STYLE_MAX, HUMAN_HARD_MAX } from './narrate.js'
export type { Narrator, NarrationFields, NarrationLevel, Actor, Action } from '../../sdk/narration.js'
export { createLogger } from './logger.js'
export { createCapture, type Capture, type LogRecord } from './capture.js'
export { narrationCoverage, REQUIRED_FLOWS } from './coverage.js'
export { redactString, redactValue } from '../../sdk/redact.js'
