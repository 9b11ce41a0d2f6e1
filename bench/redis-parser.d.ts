// redis-parser (the RESP2 parser ioredis uses) ships no typings: the part bench/miniproto.ts calls.
declare module 'redis-parser' {
  interface RedisParserOptions {
    returnReply(reply: unknown): void;
    returnError(error: Error): void;
    returnFatalError?(error: Error): void;
    returnBuffers?: boolean;
    stringNumbers?: boolean;
  }
  class RedisParser {
    constructor(options: RedisParserOptions);
    execute(buffer: Buffer): void;
    reset(): void;
  }
  export = RedisParser;
}
