/** Operation ids for progress events and cancellation (`opId`: 1-64 letters, digits, `_`, `-`). */
let counter = 0;
export function newOpId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${String(counter)}`;
}
