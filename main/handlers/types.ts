/**
 * The type of the handler map (shared/ipc/contract.ts): one handler per channel, a group of them per
 * feature (main/handlers/*.ts), joined in ./index.ts.
 */
import type { Channel, HandlerResultOf, ParsedRequestOf } from '../../shared/ipc/contract';
import type { AppContext } from '../context';

export type Handler<C extends Channel> = (req: ParsedRequestOf<C>, ctx: AppContext) => Promise<HandlerResultOf<C>>;
export type Handlers = { readonly [C in Channel]: Handler<C> };

/** The handlers of every channel whose name starts with one of `F` (`vault` → `vault:*`): all of them, no other. */
export type HandlersFor<F extends string> = { readonly [C in Channel as C extends `${F}:${string}` ? C : never]: Handler<C> };
