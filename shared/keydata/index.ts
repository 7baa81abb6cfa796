/**
 * tss-lib keydata (`LocalPartySaveData`): lossless reading and writing, the split into a node's
 * secret record and the key's public context, byte-identical regeneration, and the self-check.
 */
export { DEFAULT_JSON_LIMITS, isJsonObject, jsonObject, parseJson, writeJson, writeJsonBytes } from './json';
export type { JsonLimits, JsonObject, JsonValue } from './json';
export { MAX_PARTIES, keydataToJson, parseKeydata, validateKeydata, writeKeydata } from './model';
export type { EcPoint, EcdsaKeydata, EddsaKeydata, Keydata, PaillierPrivateKey, PaillierPublicKey } from './model';
export type { CurveName } from './curves';
export { SECRET_RECORD_VERSION, decodeSecretRecord, encodeSecretRecord, validateSecretRecord } from './secret-record';
export type { EcdsaSecretRecord, EddsaSecretRecord, SecretRecord } from './secret-record';
export {
  PUBLIC_CONTEXT_HASH_LABEL,
  PUBLIC_CONTEXT_TAG,
  decodePublicContext,
  encodePublicContext,
  indexOfShareId,
  publicContextFromPeer,
  publicContextHash,
  publicContextOf,
  validatePublicContext,
} from './public-context';
export type { EcdsaPublicContext, EddsaPublicContext, PublicContext } from './public-context';
export { splitKeydata } from './split';
export type { SplitKeydata } from './split';
export { regenerateKeydata } from './regenerate';
export { SELF_CHECK_NAMES, assertSelfCheck, selfCheck } from './selfcheck';
export type { SelfCheckItem, SelfCheckName, SelfCheckResult } from './selfcheck';
export { RECOVERY_CHECK_NAMES, eip55, groupKeyFromEncoding, groupKeyFromPoint, groupKeyOf, recoveryChecks } from './group-key';
export type { GroupKey } from './group-key';
