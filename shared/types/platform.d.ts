/**
 * The few platform globals that shared/ may use, because every runtime Custos targets has them with
 * the same meaning: browsers and Electron renderers, Electron main, and Node ≥ 20. Declared here
 * (rather than pulling in the DOM or Node type libraries) so that anything else fails to typecheck.
 */
declare global {
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
    decode(input?: Uint8Array): string;
  }
  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  function atob(data: string): string;
  function btoa(data: string): string;
  var crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
}
export {};
