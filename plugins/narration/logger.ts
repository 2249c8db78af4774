import pino, { type DestinationStream, type Logger } from 'pino'
import pinoPretty from 'pino-pretty'
import { redactString, redactValue } from '../../sdk/redact.js'

export type LogFormat = 'json' | 'pretty'

export interface LoggerOptions {
  level?: string
  format?: LogFormat
  /** Where lines go (default stdout); tests pass a capture or a sink. */
  destination?: DestinationStream
}

interface RequestLike { method?: string, url?: string, host?: string, hostname?: string, ip?: string, socket?: { remotePort?: number } }
interface ReplyLike { statusCode?: number }

/**
 * The one pino instance of a process. Every record passes the redaction layer: the
 * merged object, child bindings, string arguments and the request serializer, so a
 * secret cannot reach a log line by any of those paths (ORCH-3302).
 */
export function createLogger (opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { pid: process.pid },
    formatters: {
      log: (obj) => redactValue(obj) as Record<string, unknown>,
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod (args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = redactString(args[i] as string)
        return method.apply(this, args as Parameters<typeof method>)
      },
    },
    serializers: {
      req: (req: RequestLike) => ({
        method: req.method,
        url: req.url === undefined ? undefined : redactString(req.url),
        host: req.host ?? req.hostname,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
      res: (res: ReplyLike) => ({ statusCode: res.statusCode }),
    },
  }
  const logger = opts.format === 'pretty'
    ? pino(options, pinoPretty({
      destination: opts.destination ?? process.stdout,
      colorize: process.stdout.isTTY === true,
      ignore: 'pid,hostname,human',
      translateTime: 'SYS:HH:MM:ss.l',
      // narration records carry `human`; framework records carry `msg`
      messageFormat: (log: Record<string, unknown>) => String(log.human ?? log.msg ?? ''),
    }))
    : opts.destination ? pino(options, opts.destination) : pino(options)
  return withRedactedBindings(logger)
}

/**
 * pino's `formatters.bindings` sees only the root bindings, not those of `child()`.
 * Children are created with `Object.create(parent)`, so one override on the root is
 * inherited by every descendant, including Fastify's per-request loggers.
 */
function withRedactedBindings (logger: Logger): Logger {
  const child = logger.child
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactValue(bindings) as typeof bindings, options)
  } as Logger['child']
  return logger
}
