// binary-parser's package.json "exports" has no "types" condition for its ESM entry, so under
// NodeNext TypeScript cannot see the typings it ships. Point the ESM entry at them.
declare module 'binary-parser' {
  export { Parser } from 'binary-parser/dist/binary_parser.js';
}
