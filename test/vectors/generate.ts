/**
 * Writes the protocol v1 test vectors: test/vectors/v1/<type>.cbor and vectors.json.
 *
 *   npm run vectors             rebuild every message from the inputs recorded in vectors.json
 *                               (same inputs: the files come out byte-identical unless the
 *                               encoding changed)
 *   npm run vectors -- --fresh  new age identities, a new Shamir split and new sealed payloads
 *                               (every other input is fixed and stays the same)
 *
 * Regenerating changes what the vector test holds the code to. Do it only on purpose, when the
 * wire format changes, and say so in the commit (test/vectors/README.md).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../../shared/bytes';
import { openSealed } from '../../shared/crypto/seal';
import { MESSAGE_TYPES } from '../../shared/protocol';
import { at, buildVectorFile, freshInputs, TITLED_TYPES, VECTOR_INCIDENT_TITLE, type VectorFile, type VectorInputs } from './build';

const dir = new URL('./v1/', import.meta.url);
const jsonPath = new URL('vectors.json', dir);

async function main(): Promise<void> {
  const fresh = process.argv.includes('--fresh');
  let inputs: VectorInputs;
  if (fresh) {
    inputs = await freshInputs();
  } else {
    if (!existsSync(jsonPath)) {
      throw new Error(`${fileURLToPath(jsonPath)} does not exist; run with --fresh to create new vectors.`);
    }
    const recorded = (JSON.parse(readFileSync(jsonPath, 'utf8')) as VectorFile).inputs;
    // Inputs recorded before the titled vectors (issue 13) have no title: add the fixed one. Every
    // other input, and so every untitled vector, stays as recorded.
    inputs = { ...recorded, incidentTitle: (recorded as Partial<VectorInputs>).incidentTitle ?? VECTOR_INCIDENT_TITLE };
  }

  // The recorded payloads must decrypt to the recorded share, or the inputs are inconsistent.
  const held = fromHex(at(inputs.shares, inputs.retain, 'share'));
  const env = await openSealed(at(inputs.ageIdentities.custodians, 0, 'age identity'), fromHex(inputs.envelopePayload));
  const exp = await openSealed(inputs.ageIdentities.session, fromHex(inputs.exportPayload));
  if (Buffer.compare(env, held) !== 0 || Buffer.compare(exp, held) !== 0) throw new Error('The recorded payloads do not decrypt to the recorded share.');

  const { file, messages, titled } = await buildVectorFile(inputs);
  mkdirSync(dir, { recursive: true });
  const changed: string[] = [];
  for (const type of MESSAGE_TYPES) {
    const path = new URL(file.expected.messages[type].file, dir);
    const bytes = messages[type];
    if (!existsSync(path) || Buffer.compare(readFileSync(path), bytes) !== 0) changed.push(type);
    writeFileSync(path, bytes);
    console.log(`${type.padEnd(22)} ${String(bytes.length).padStart(5)} bytes  sha256 ${file.expected.messages[type].sha256}`);
  }
  for (const type of TITLED_TYPES) {
    const record = file.expected.titled[type];
    const path = new URL(record.file, dir);
    const bytes = titled[type];
    if (!existsSync(path) || Buffer.compare(readFileSync(path), bytes) !== 0) changed.push(`${type} (titled)`);
    writeFileSync(path, bytes);
    console.log(`${`${type} (titled)`.padEnd(22)} ${String(bytes.length).padStart(5)} bytes  sha256 ${record.sha256}`);
  }
  writeFileSync(jsonPath, `${JSON.stringify(file, null, 2)}\n`);
  console.log(changed.length === 0 ? 'No message changed.' : `Changed: ${changed.join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
