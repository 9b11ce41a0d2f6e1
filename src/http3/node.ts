/**
 * pullwire/http3/node: HTTP/3 and hq-interop clients and servers on the Node
 * QUIC adapter (pullwire/quic/node), built on the sans-I/O protocol objects
 * of pullwire/http3.
 */
export { Http3Client } from './node/client.js';
export type { Http3ClientOptions, Http3RequestInit, Http3Response } from './node/client.js';
export { serveHttp3, fileHandler } from './node/server.js';
export type { Http3Handler, Http3Request, Http3ServerOptions, Http3ServerResponse } from './node/server.js';
export { Body, Http3StreamError, Session, PROTOCOLS } from './node/session.js';
export type { Protocol } from './node/session.js';
