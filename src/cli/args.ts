/**
 * A small command-line parser for the subcommands that take many options:
 * `--name value` options (repeatable ones collect a list), `--flag`
 * switches, and positional arguments. Errors name the option and end with
 * the command's usage text.
 */
export interface ArgSpec {
  /** Options that take a value (`--port 4433`). */
  readonly values?: readonly string[];
  /** Options that take a value and may repeat (`--alpn h3 --alpn hq-interop`). */
  readonly lists?: readonly string[];
  /** Switches (`--insecure`). */
  readonly flags?: readonly string[];
  /** Short spellings and the option they stand for (`{ '-p': '--port' }`). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Whether the command takes positional arguments (default true); when false one is an unknown argument. */
  readonly positional?: boolean;
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly values: Map<string, string>;
  readonly lists: Map<string, string[]>;
  readonly flags: Set<string>;
  /** True when --help or -h was given. */
  readonly help: boolean;
}

export function parseCommandLine(argv: readonly string[], spec: ArgSpec, usage: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: new Map(), lists: new Map(), flags: new Set(), help: false };
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const given = argv[i]!;
    const a = spec.aliases?.[given] ?? given;
    if (a === '--help' || a === '-h') help = true;
    else if (spec.flags?.includes(a) === true) out.flags.add(a);
    else if (spec.values?.includes(a) === true || spec.lists?.includes(a) === true) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
      if (spec.values?.includes(a) === true) out.values.set(a, v);
      else out.lists.set(a, [...(out.lists.get(a) ?? []), v]);
    } else if (a.startsWith('--') || spec.positional === false) throw new Error(`unknown argument ${given}\n${usage}`);
    else out.positional.push(a);
  }
  return { ...out, help };
}

/** A non-negative integer option, or undefined when absent. */
export function intOption(args: ParsedArgs, name: string): number | undefined {
  const text = args.values.get(name);
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer, not ${text}`);
  return v;
}

/** Waits for Ctrl-C (SIGINT) or SIGTERM, then runs `stop` (e.g. `server.close()`) and resolves when it has. */
export function untilSignal(stop: () => Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void stop().then(() => resolve());
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
