/** Givens that start the scenario's server and script its fake engines. */
import { Given } from '@cucumber/cucumber'
import type { OrchWorld } from '../world.js'
import { list } from './support.js'

Given('a server with no pools', async function (this: OrchWorld) {
  await this.start({})
})

Given('a server with a ready llama.cpp pool {string} serving {string}', async function (this: OrchWorld, id: string, model: string) {
  await this.start({ pools: [{ id, model }] })
})

Given(/^a server with a ready llama\.cpp pool "([^"]+)" serving "([^"]+)" and queue capacity (\d+) with policy "(reject|drop-lru)"$/,
  async function (this: OrchWorld, id: string, model: string, capacity: string, policy: 'reject' | 'drop-lru') {
    await this.start({ pools: [{ id, model, capacity: Number(capacity), policy }] })
  })

Given('a server with a ready llama.cpp pool {string} serving {string} and a session token budget of {int}',
  async function (this: OrchWorld, id: string, model: string, tokens: number) {
    await this.start({ pools: [{ id, model }], sessions: { budgets: { tokens } } })
  })

Given('a server with a ready llama.cpp pool {string} serving {string} and the API key {string}',
  async function (this: OrchWorld, id: string, model: string, key: string) {
    await this.start({ pools: [{ id, model }], apiKeys: [key] })
  })

Given('a server with a llama.cpp pool {string} serving {string} whose engine is still loading', async function (this: OrchWorld, id: string, model: string) {
  await this.start({ pools: [{ id, model, engineReady: false }] })
})

Given('the engine streams the tokens {string}', function (this: OrchWorld, tokens: string) {
  this.engine.faults.tokens = list(tokens).map((t) => t.replaceAll('_', ' '))
})

Given('the engine streams {int} tokens {int} ms apart', function (this: OrchWorld, n: number, ms: number) {
  this.engine.faults.tokens = Array.from({ length: n }, (_, i) => `t${i} `)
  this.engine.faults.tokenDelayMs = ms
})

Given(/^the engine stalls after (\d+) tokens?$/, function (this: OrchWorld, n: string) {
  this.engine.faults.stallAfter = Number(n)
})

Given('the engine drops the connection after {int} tokens', function (this: OrchWorld, n: number) {
  this.engine.faults.disconnectAfter = n
})
