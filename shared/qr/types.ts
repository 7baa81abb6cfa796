/**
 * UR types of Custos messages (docs/protocol.md §7): `custos-<message type>`, e.g.
 * `custos-envelope`, `custos-recovery-export`. One table, used by the agent and the app, so a frame
 * made by one side is always accepted by the other.
 */
import { MESSAGE_TYPES, type MessageType } from '../protocol/frame';

export type UrType = `custos-${MessageType}`;

export const urTypeOf = (type: MessageType): UrType => `custos-${type}`;

export function messageTypeOfUr(urType: string): MessageType | undefined {
  if (!urType.startsWith('custos-')) return undefined;
  const rest = urType.slice('custos-'.length);
  return (MESSAGE_TYPES as readonly string[]).includes(rest) ? (rest as MessageType) : undefined;
}
