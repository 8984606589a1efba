/**
 * Splitting a command line into words as a POSIX shell does before running it, without
 * running anything: single quotes keep everything; double quotes keep everything but `\`
 * before `$`, `` ` ``, `"`, `\` and a newline; outside quotes a backslash keeps the next
 * character, and a backslash before a newline joins the lines (libvirt's `.args` files are
 * written that way); `#` at the start of a word comments out the rest of the line. Nothing is
 * expanded (`$HOME` stays as written). Not a library: shell-quote, the usual one, turns a
 * backslash-newline into an empty word (the same as `''`) and expands `$VAR`.
 */
import { lineError } from './errors';

export interface Word {
  text: string;
  line: number;
}

export function shellWords(text: string, where: string): Word[] {
  const out: Word[] = [];
  let word: string | undefined;
  let wordLine = 1;
  let line = 1;
  const add = (s: string) => {
    if (word === undefined) {
      word = '';
      wordLine = line;
    }
    word += s;
  };
  const end = () => {
    if (word !== undefined) out.push({ text: word, line: wordLine });
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      i++;
      if (next === undefined) {
        add('\\');
        break;
      }
      if (next === '\n') {
        line++;
        continue;
      }
      add(next);
    } else if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw lineError(where, line, 'a single quote that is never closed');
      const part = text.slice(i + 1, close);
      add(part);
      line += part.split('\n').length - 1;
      i = close;
    } else if (ch === '"') {
      add('');
      const opened = line;
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const d = text[j]!;
        if (d === '\\' && j + 1 < text.length && '$`"\\\n'.includes(text[j + 1]!)) {
          j++;
          if (text[j] === '\n') {
            line++;
            continue;
          }
          add(text[j]!);
        } else {
          if (d === '\n') line++;
          add(d);
        }
      }
      if (j >= text.length) throw lineError(where, opened, 'a double quote that is never closed');
      i = j;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      end();
      if (ch === '\n') line++;
    } else if (ch === '#' && word === undefined) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
    } else {
      add(ch);
    }
  }
  end();
  return out;
}
