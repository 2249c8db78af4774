// Cost of the narration layer: records per second through createLogger + narrate (every
// field scrubbed for secrets) against plain pino writing the same record, in one run.
// Usage: npm run bench -- [records=200000]
import pino from 'pino'
import { Writable } from 'node:stream'
import { createLogger, createNarrator } from '../dist/plugins/narration/index.js'

const N = Number(process.argv[2] ?? 200_000)
const sink = () => new Writable({ write (_c, _e, cb) { cb() } })

const fields = {
  actor: 'adapter-host',
  action: 'end',
  target: 'llamacpp',
  task_id: '0b7f6c1e-2f0e-4d5b-9d0a-0c1d2e3f4a5b',
  pool_id: 'p0',
  replica_id: 'r0',
  engine_version: 'b5000',
  tokens_in: 12,
  tokens_out: 64,
  decode_time_ms: 812,
}
const human = 'adapter-host ends task 0b7f6c1e on llamacpp p0/r0 after 64 tokens'
const secretFields = { ...fields, headers: { authorization: 'Bearer abcdef' }, url: 'https://u:p@h/x?api_key=zz' }

function run (label, write) {
  for (let i = 0; i < 5_000; i++) write()          // warm-up
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) write()
  const ns = Number(process.hrtime.bigint() - t0)
  const perSec = N / (ns / 1e9)
  console.log(`${label.padEnd(44)} ${Math.round(perSec).toString().padStart(9)} records/s  ${(ns / N / 1000).toFixed(2)} µs/record`)
  return perSec
}

const plain = pino({ base: { pid: process.pid } }, sink())
const narrator = createNarrator(createLogger({ destination: sink() }))
const base = run('plain pino (baseline)', () => plain.info({ ...fields, human }))
const ours = run('narrate (redaction on every field)', () => narrator.narrate(fields, human))
const withSecrets = run('narrate, record carrying secrets', () => narrator.narrate(secretFields, human))
console.log(`\nratio narrate/plain: ${(ours / base).toFixed(2)}  (with secrets: ${(withSecrets / base).toFixed(2)})`)
console.log(`node ${process.version}, ${N} records per case`)
