/** The Custos protocol, version 1: every message, its schema, encoding and checks (docs/protocol.md). */
export * from './frame';
export * from './schema';
export * from './cbor';
export * from './identity';
export * from './manifest';
export * from './envelope';
export * from './receipt';
export * from './approval';
export * from './deletion-approval';
export * from './recovery-request';
export * from './recovery-export';
export * from './supersede';
export * from './inventory';
export * from './agent-key-rotation';
export * from './backup';
export * from './roster';
