/**
 * The part of `qrcode`'s API that shared/qr uses, declared here because `@types/qrcode` references
 * Node's type library, which must not reach shared/ (tsconfig.shared.json maps 'qrcode' here).
 * Matches qrcode 1.5 (lib/core/qrcode.js `create`, lib/browser.js and lib/server.js `toString`).
 */
declare module 'qrcode' {
  export type QRCodeErrorCorrectionLevel = 'L' | 'M' | 'Q' | 'H' | 'low' | 'medium' | 'quartile' | 'high';
  export interface QRCodeSegment {
    data: string | Uint8Array;
    mode: 'alphanumeric' | 'numeric' | 'byte' | 'kanji';
  }
  export interface QRCode {
    modules: { size: number; data: Uint8Array; reservedBit: Uint8Array };
    version: number;
    errorCorrectionLevel: { bit: number };
    maskPattern: number;
  }
  export function create(text: string | QRCodeSegment[], options?: { errorCorrectionLevel?: QRCodeErrorCorrectionLevel; version?: number }): QRCode;
  export function toString(
    text: string | QRCodeSegment[],
    options: { type: 'svg'; errorCorrectionLevel?: QRCodeErrorCorrectionLevel; margin?: number; width?: number },
  ): Promise<string>;
  const QRCodeApi: { create: typeof create; toString: typeof toString };
  export default QRCodeApi;
}
