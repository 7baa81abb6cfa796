/**
 * QR decoding in the window (loaded on demand: it brings jsQR): camera pictures and image formats
 * the main process does not read. What it returns is untrusted text: the main process parses it.
 */
import { decodeQrImage } from '../../../shared/qr/decode';

export function decodeImageData(image: ImageData): string | null {
  return decodeQrImage(image.data, image.width, image.height);
}

/** The QR text in a picture file (JPEG, GIF, WebP, BMP…), or null. */
export async function decodePictureBytes(bytes: Uint8Array): Promise<string | null> {
  const bitmap = await createImageBitmap(new Blob([bytes.slice().buffer]));
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const g = canvas.getContext('2d');
  if (g === null) return null;
  g.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  return decodeImageData(g.getImageData(0, 0, w, h));
}
