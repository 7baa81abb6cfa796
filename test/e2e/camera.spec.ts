import { encodeFrames, FrameAssembler } from '../../shared/qr/ur';
import { qrTextInPng as readQrPng } from '../../node/qr-files';
import { tempVideoPath, writeQrY4m } from './host/fake-camera';
import { expect, test } from './host/fixture';

// The camera path, as the renderer's scanner will use it: Chromium's fake camera plays a video of
// QR frames (host/fake-camera.ts), the app page opens it with getUserMedia (allowed by its CSP), and
// every captured picture is read back; the frames reassemble the message. The video must exist
// before the browser starts, so it is written when this file loads.
const payload = new Uint8Array(1800).map((_x, i) => (i * 7 + 3) % 256);
const frames = encodeFrames(payload, { type: 'custos-recovery-export' });
const video = tempVideoPath('custos-camera-');
writeQrY4m(video, frames, { fps: 10, holdFrames: 3 });

test.use({
  launchOptions: {
    executablePath: process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--disable-background-networking',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  },
});

test('the fake camera shows the QR frames to the app page, and they reassemble', async ({ app }) => {
  const assembler = new FrameAssembler({ type: 'custos-recovery-export' });
  for (let round = 0; round < 20 && !assembler.progress.complete; round++) {
    // One captured picture per video frame the page receives (requestVideoFrameCallback), as PNG.
    const shots = await app.evaluate(async (count) => {
      const w = window as unknown as { __camera?: HTMLVideoElement };
      if (w.__camera === undefined) {
        const v = document.createElement('video');
        v.muted = true;
        v.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
        await v.play();
        w.__camera = v;
      }
      const v = w.__camera;
      const canvas = document.createElement('canvas');
      canvas.width = v.videoWidth;
      canvas.height = v.videoHeight;
      const g = canvas.getContext('2d');
      const out: string[] = [];
      for (let i = 0; i < count; i++) {
        await new Promise<void>((resolve) => v.requestVideoFrameCallback(() => {
          resolve();
        }));
        g?.drawImage(v, 0, 0);
        out.push(canvas.toDataURL('image/png'));
      }
      return out;
    }, 6);
    for (const shot of shots) {
      const text = readQrPng(new Uint8Array(Buffer.from(shot.slice(shot.indexOf(',') + 1), 'base64')));
      if (text !== null) assembler.add(text);
    }
  }
  expect(assembler.result().payload).toEqual(payload);
});
