import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WORKER_ENTRY } from '../provisioner.js'
import { writeTinyModel } from '../tiny-file.js'
import { adapterConformance } from '../../../test/helpers/adapter-conformance.js'
import { llamacppTarget } from '../../../test/helpers/conformance-targets.js'

// Decision 2: the embedded worker passes the same llamacpp adapter suite as the fake
// llama-server. A real engine has no fault switches, so the core checks run: ordering,
// indices, tokens_out (llama-server counts EOS), derived seeds, cancel.
t.setTimeout(180_000)

adapterConformance(t, {
  ...llamacppTarget,
  request: { prompt: 'Count: 3', max_tokens: 16 },
  // "Count: 3" ends after six tokens, before a cancel could land; this prompt never ends
  longRequest: { prompt: 'abc' },
  async start () {
    const dir = await mkdtemp(join(tmpdir(), 'orc-conformance-'))
    const model = join(dir, 'tiny.gguf')
    await writeTinyModel(model)
    const proc = spawn(process.execPath, [
      ...process.execArgv, WORKER_ENTRY, '--model', model, '--port', '0', '--threads', '1', '--parallel', '1',
      '--alias', 'tiny', '--gpu', 'off', '--exit-on-stdin-close',
    ], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    proc.stdout.on('data', (d) => { out += String(d) })
    proc.stderr.on('data', (d) => { out += String(d) })
    const until = Date.now() + 60_000
    while (!/"event":"ready"/.test(out)) {
      if (Date.now() > until || proc.exitCode !== null) throw new Error(`the embedded worker did not become ready:\n${out}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const port = /"event":"listening","port":(\d+)/.exec(out)![1]
    return {
      url: `http://127.0.0.1:${port}`,
      tokens: ['4', '5', '6', '7', '8', '9'],
      tokensOut: 7,
      close: async () => { proc.kill('SIGKILL') },
    }
  },
})
