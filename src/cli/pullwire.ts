#!/usr/bin/env node
/**
 * The `pullwire` command: a thin dispatcher to subcommands, each of which
 * parses its own options and calls the public API of a layer.
 *
 *   pullwire ws-echo --port 9001      WebSocket echo server on 127.0.0.1
 *   pullwire quic-server --port 4433 --cert c.pem --key k.pem --alpn bench
 *                                     QUIC server of the request protocol (../shared/peers)
 *   pullwire quic-client 127.0.0.1 4433 --alpn bench --get 1000000 --ca c.pem --server-name localhost
 *                                     QUIC client: requests, verifies, prints a JSON summary
 *   pullwire h3-server --port 4433 --cert c.pem --key k.pem --root dir
 *   pullwire h3-get https://127.0.0.1:4433/file --ca c.pem --server-name localhost --output dl
 *   pullwire help                     this list
 *
 * A subcommand is one entry of COMMANDS: add new ones (quic-server, ...) there.
 */

interface Command {
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  'ws-echo': {
    summary: 'WebSocket echo server on 127.0.0.1 (permessage-deflate enabled): ws-echo --port <n>',
    run: async (argv) => (await import('./ws-echo.js')).wsEchoMain(argv),
  },
  'quic-server': {
    summary:
      'QUIC server of the request protocol (N bytes per "N\\n" stream, echo otherwise): quic-server --port <n> --cert <pem> --key <pem> --alpn <id>',
    run: async (argv) => (await import('./quic-server.js')).quicServerMain(argv),
  },
  'quic-client': {
    summary:
      'QUIC client: quic-client <host> <port> --alpn <id> --get <N> [--streams <k>] [--ca <pem> | --insecure]; prints a JSON summary',
    run: async (argv) => (await import('./quic-client.js')).quicClientMain(argv),
  },
  'h3-server': {
    summary: 'HTTP/3 + hq-interop file server: h3-server --port <n> --cert <pem> --key <pem> --root <dir> [--retry]',
    run: async (argv) => (await import('./h3-server.js')).h3ServerMain(argv),
  },
  'h3-get': {
    summary: 'HTTP/3 (or hq-interop) client: h3-get <url>... [--ca <pem> | --insecure] [--output <dir>] [--key-update] [--chacha20]',
    run: async (argv) => (await import('./h3-get.js')).h3GetMain(argv),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: pullwire <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'pullwire <command> --help' shows a command's options.`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`pullwire: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`pullwire: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
