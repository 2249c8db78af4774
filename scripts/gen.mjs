// Regenerates every checked-in artifact derived from code: the manifest JSON Schema, the
// metrics contract, the README configuration reference and the OpenAI parameter table. Run with `npm run gen`
// (it builds first); tests fail when any of these drifts from the code.
import { readFile, writeFile } from 'node:fs/promises'
import { manifestJsonSchema } from '../dist/core/manifest-schema-doc.js'
import { configReference } from '../dist/core/config-reference.js'
import { contractDocument } from '../dist/plugins/metrics/contract.js'
import { spliceBlock, spliceReference } from '../dist/core/readme-block.js'
import { honourTable } from '../dist/plugins/openai/honour.js'
import { samplingTable } from '../dist/core/sampling-table.js'

const writeIfChanged = async (file, text) => {
  const old = await readFile(file, 'utf8').catch(() => '')
  if (old !== text) { await writeFile(file, text); console.log(`wrote ${file}`) }
}

await writeIfChanged('schemas/manifest.schema.json', `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`)
await writeIfChanged('specs/metrics.lint.json', `${JSON.stringify(contractDocument(), null, 2)}\n`)
const readme = spliceBlock(spliceReference(await readFile('README.md', 'utf8'), configReference()), 'openai-params', honourTable())
await writeIfChanged('README.md', spliceBlock(readme, 'sampling-engines', samplingTable()))
