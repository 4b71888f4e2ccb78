// Finds the names of the system commands a source tree runs, for the host-command inventory check
// (host-commands.test.ts). Two readers:
// - TypeScript / JavaScript, through the compiler's syntax tree: the argv given to a runner (exec, execOk,
//   spawn, spawnSync, execFile, execFileSync, spawnDetached, inNs, and the lab's x.exec / x.execOk / x.spawn),
//   argv prefixes kept in constants (an array literal `['name', '-flag', ...]`), absolute /usr/bin, /usr/sbin,
//   /bin and /sbin paths, and the script of `sh -c` (a literal, or a const holding one);
// - shell: the first word of every simple command (after assignments, keywords and wrappers such as `timeout`),
//   words after `command -v`, inside `$(...)` too; quoted text, comments and here-documents are not commands.
// Wrappers are looked through: `ip netns exec NS cmd`, `stdbuf -oL cmd`, `setpriv ... cmd`, `timeout 5 cmd`.
// Shapes it cannot see (an argv built at run time from variables) are what the inventory's notes are for.

import ts from 'typescript';

/** One command name and where it was seen ("file:line"). */
export interface CommandUse {
  readonly command: string;
  readonly where: string;
  /** Seen only as an array literal `['name', '-flag', ...]` outside a runner call: a command if such a program exists. */
  readonly guess?: true;
}

/** Runners whose argv is their first array-literal argument (bare or as a method: lab.exec(node, argv)). */
const ARGV_RUNNERS = new Set(['exec', 'execOk', 'spawnDetached', 'inNs', 'spawn']);
/** child_process-style runners: a string command, then its arguments. */
const CMD_RUNNERS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'sh']);
/** Shell keywords that may stand before a command. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'esac', '!', 'time']);
/** Shell builtins: no program runs (their arguments are not commands either). */
const BUILTINS = new Set([
  'echo', 'printf', 'set', 'trap', 'export', 'cd', 'pwd', 'local', 'read', 'return', 'exit', 'shift', 'source', 'true',
  'false', 'test', 'wait', 'kill', 'eval', 'declare', 'readonly', 'unset', 'type', 'hash', 'getopts', 'break', 'continue',
  'mapfile',
]);
const NAME = /^[a-z][a-z0-9._+-]*$/;
const SYSTEM_PATH = /^\/(?:usr\/)?s?bin\/([a-z][a-z0-9._+-]*)$/;

/** Commands an argv runs: its head, and the command a wrapper head runs in turn. */
function argvCommands(argv: ReadonlyArray<string | undefined>): string[] {
  const head = argv[0];
  if (head === undefined || !NAME.test(head)) return [];
  const rest = argv.slice(1);
  const skipFlags = (from: ReadonlyArray<string | undefined>): ReadonlyArray<string | undefined> => {
    let i = 0;
    while (i < from.length && (from[i]?.startsWith('-') || /^\w+=/.test(from[i] ?? ''))) i++;
    return from.slice(i);
  };
  let inner: ReadonlyArray<string | undefined> = [];
  if (head === 'sh' || head === 'bash') {
    const c = rest.indexOf('-c');
    const script = c >= 0 ? rest[c + 1] : undefined;
    return [head, ...(script === undefined ? [] : shellCommands(script))];
  } else if (head === 'ip' && rest[0] === 'netns' && rest[1] === 'exec') inner = rest.slice(3);
  else if (head === 'stdbuf' || head === 'setpriv' || head === 'env' || head === 'nice' || head === 'nohup') inner = skipFlags(rest);
  else if (head === 'timeout') inner = skipFlags(rest).slice(1);
  return [head, ...argvCommands(inner)];
}

/**
 * Commands a shell script runs (see the file comment for what counts); its own functions are not commands, nor
 * those of the `libraries` (texts of the scripts it sources).
 */
export function shellCommands(script: string, libraries: readonly string[] = []): string[] {
  const functions = [script, ...libraries].flatMap((text) => [...text.matchAll(/^\s*([\w-]+)\s*\(\)\s*\{/gm)].map((m) => m[1]!));
  return scriptCommands(script, new Set(functions));
}

function scriptCommands(script: string, functions: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let words: string[] = [];
  let word = '';
  const endWord = (): void => {
    if (word !== '') words.push(word);
    word = '';
  };
  const endCommand = (): void => {
    endWord();
    out.push(...commandOf(words, functions));
    words = [];
  };
  let quote: '' | "'" | '"' = '';
  let heredoc: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (quote === "'" || (quote === '"' && ch !== '"' && !script.startsWith('$(', i))) {
      if (ch === quote) quote = '';
      else if (ch === '\\') i++;
      word += '$';
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = quote === '"' ? '' : ch;
      word += '$';
    } else if (ch === '\\') {
      // An escaped character, or a line continuation.
      word += script[i + 1] === '\n' ? '' : '$';
      i++;
    } else if (ch === '#' && word === '') {
      i = script.indexOf('\n', i) - 1;
      if (i < 0) break;
    } else if (ch === '\n') {
      endCommand();
      if (heredoc !== undefined) {
        // The here-document's body is data: skip to its delimiter line.
        const m = new RegExp(`^\\s*${heredoc}$`, 'm').exec(script.slice(i + 1));
        i = m ? i + 1 + m.index + m[0].length - 1 : script.length;
        heredoc = undefined;
      }
    } else if (script.startsWith('<<', i) && !script.startsWith('<<<', i)) {
      const m = /^<<-?\s*['"]?(\w+)['"]?/.exec(script.slice(i));
      heredoc = m?.[1];
      i += (m?.[0].length ?? 2) - 1;
      endWord();
    } else if (ch === '$' && script[i + 1] === '{') {
      // ${name}, ${#array[@]}: part of a word, never a command.
      i = script.indexOf('}', i);
      word += '$';
      if (i < 0) break;
    } else if (script.startsWith('$((', i) || (ch === '(' && word.endsWith('='))) {
      // $(( arithmetic )) and name=(array words): part of a word, never a command.
      i = closing(script, script.indexOf('(', i)) - 1;
      word += '$';
    } else if (script.startsWith('$(', i)) {
      // A command substitution: its own command, whose words end at the matching ')'.
      const end = closing(script, i + 1);
      out.push(...scriptCommands(script.slice(i + 2, end - 1), functions));
      word += '$';
      i = end - 1;
    } else if (';&|(){}'.includes(ch)) {
      // A word right before ')' that starts the command is a case pattern, not a command.
      if (ch === ')' && words.length === 0) word = '';
      endCommand();
    } else if (ch === ' ' || ch === '\t') {
      endWord();
    } else {
      word += ch;
    }
  }
  endCommand();
  return out;
}

/** Index just past the ')' matching the '(' at `open` (or the text's end). */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '(') depth++;
    else if (text[j] === ')' && --depth === 0) return j + 1;
  }
  return text.length;
}

function commandOf(words: readonly string[], functions: ReadonlySet<string>): string[] {
  let i = 0;
  while (i < words.length && (/^\w+=/.test(words[i]!) || KEYWORDS.has(words[i]!))) i++;
  if (words[i] === 'for' || words[i] === 'case' || BUILTINS.has(words[i] ?? '')) return [];
  if (words[i] === 'exec' || words[i] === 'xargs' || words[i] === 'sudo') {
    i++;
    while (words[i]?.startsWith('-')) i++;
  }
  if (words[i] === 'command' && words[i + 1] === '-v') return NAME.test(words[i + 2] ?? '') ? [words[i + 2]!] : [];
  if (words[i] === 'command') i++;
  const name = words[i];
  if (name === undefined || !NAME.test(name) || functions.has(name)) return [];
  return argvCommands(words.slice(i));
}

/** Commands a TypeScript or JavaScript file runs. */
export function sourceCommands(file: string, text: string): CommandUse[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const consts = new Map<string, string>();
  const out: CommandUse[] = [];
  const where = (n: ts.Node): string => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const textOf = (e: ts.Node | undefined): string | undefined => {
    if (e === undefined) return undefined;
    if (ts.isStringLiteralLike(e)) return e.text;
    if (ts.isTemplateExpression(e)) return e.head.text + e.templateSpans.map((s) => `_${s.literal.text}`).join('');
    if (ts.isIdentifier(e)) return consts.get(e.text);
    return undefined;
  };
  const addArgv = (arr: ts.ArrayLiteralExpression, guess = false): void => {
    for (const c of argvCommands(arr.elements.map((e) => textOf(e)))) out.push({ command: c, where: where(arr), ...(guess ? { guess } : {}) });
  };
  const collectConsts = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
      const t = ts.isStringLiteralLike(n.initializer) || ts.isTemplateExpression(n.initializer) ? textOf(n.initializer) : undefined;
      if (t !== undefined) consts.set(n.name.text, t);
    }
    ts.forEachChild(n, collectConsts);
  };
  collectConsts(sf);
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = ts.isIdentifier(n.expression) ? n.expression.text : ts.isPropertyAccessExpression(n.expression) ? n.expression.name.text : '';
      const bare = ts.isIdentifier(n.expression);
      const first = n.arguments[0];
      if (bare && CMD_RUNNERS.has(callee) && first !== undefined && textOf(first) !== undefined) {
        const args = n.arguments[1];
        const argv = [textOf(first), ...(args && ts.isArrayLiteralExpression(args) ? args.elements.map((e) => textOf(e)) : [])];
        for (const c of argvCommands(argv)) out.push({ command: c, where: where(n) });
      } else if (ARGV_RUNNERS.has(callee)) {
        const arr = n.arguments.find((a) => ts.isArrayLiteralExpression(a));
        if (arr) addArgv(arr as ts.ArrayLiteralExpression);
      }
    } else if (ts.isArrayLiteralExpression(n) && !isCallArgument(n)) {
      // An argv prefix kept aside (const NOBODY = ['setpriv', '--reuid=65534', ...]): a name, then a flag.
      const [a, b] = n.elements.map((e) => textOf(e));
      if (a !== undefined && NAME.test(a) && b?.startsWith('-')) addArgv(n, true);
    } else if (ts.isStringLiteral(n)) {
      const m = SYSTEM_PATH.exec(n.text);
      if (m) out.push({ command: m[1]!, where: where(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function isCallArgument(n: ts.Node): boolean {
  return ts.isCallExpression(n.parent) && n.parent.arguments.includes(n as ts.Expression);
}
