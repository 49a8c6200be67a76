import { createRequire } from 'node:module';
import { PNG } from 'pngjs';

// jsqr is CommonJS with a default export; require gives the function itself under NodeNext.
const jsQR = createRequire(import.meta.url)('jsqr') as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

/** Decodes the QR code of a `data:image/png;base64,...` URL (what the enrollment page shows). */
export function decodeQrDataUrl(dataUrl: string): string {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  const result = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!result) throw new Error('no QR code found in the image');
  return result.data;
}
