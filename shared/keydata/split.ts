/**
 * Splits a tss-lib keydata into this node's secret record (what Shamir protects) and the key's
 * public context (what every party holds alike). Before handing them out it rebuilds the file from
 * the two and requires the result to be byte-identical, so a record never leaves here that could not
 * restore the exact file.
 */
import { constantTimeEqual } from '../bytes';
import { CustosError, guard } from '../errors';
import { isJsonObject, writeJson } from './json';
import { keydataToJson, validateKeydata, writeKeydata, type Keydata } from './model';
import { indexOfShareId, publicContextOf, type PublicContext } from './public-context';
import { regenerateKeydata } from './regenerate';
import type { SecretRecord } from './secret-record';

export interface SplitKeydata {
  readonly secret: SecretRecord;
  readonly context: PublicContext;
}

/** Names the first top-level field whose compact JSON differs between two keydata. */
function firstDifference(a: Keydata, b: Keydata): string {
  const ja = keydataToJson(a);
  const jb = keydataToJson(b);
  if (isJsonObject(ja) && isJsonObject(jb)) {
    for (const [name, value] of ja) {
      const other = jb.get(name);
      if (other === undefined || writeJson(value) !== writeJson(other)) return name;
    }
  }
  return '(unknown)';
}

export function splitKeydata(k: Keydata): SplitKeydata {
  return guard('KEYDATA_INVALID', 'The keydata could not be split.', () => {
    const v = validateKeydata(k);
    const index = indexOfShareId(v.Ks, v.ShareID);
    if (index < 0) {
      throw new CustosError('KEYDATA_INVALID', 'The keydata is inconsistent: its ShareID is not exactly once in Ks.');
    }
    const secret: SecretRecord =
      v.curve === 'secp256k1'
        ? { curve: v.curve, index, xi: v.Xi, paillierP: v.PaillierSK.P, p: v.P, alpha: v.Alpha }
        : { curve: v.curve, index, xi: v.Xi };
    const context = publicContextOf(v);
    const rebuilt = regenerateKeydata(secret, context);
    if (!constantTimeEqual(writeKeydata(rebuilt), writeKeydata(v))) {
      const field = firstDifference(rebuilt, v);
      throw new CustosError(
        'KEYDATA_INVALID',
        `The keydata is inconsistent: ${field} is not what tss-lib derives from the other fields, so it could not be restored exactly. Run the self-check.`,
        { details: { field } },
      );
    }
    return { secret, context };
  });
}
