import { PROTOCOL_VERSION } from '../shared/protocol/frame';

export const appInfo = {
  protocolVersion: PROTOCOL_VERSION,
  platform: process.platform,
} as const;
