/**
 * The RESP2/RESP3 client codec: the worked example of a protocol built only
 * from the public combinator and mini-protocol API. The Node client is in
 * `resp/node.ts` (imported separately: it needs `node:net`).
 */
export { respReplies } from './decode.js';
export type { RespReaderOptions, RespPhaseOptions, RespReplyEvent } from './decode.js';
export { RespConnection, encodeCommand } from './client.js';
export type { RespArg, RespClientEvent, RespConnectionOptions } from './client.js';
export { RedisError, RespMap, RespSet, RespVerbatim, RespPush, RespAttributed, RespProtocolError, RESP_ERROR_CODES } from './types.js';
export type { RespValue, RespErrorCode } from './types.js';
