/**
 * Where a JSON text first breaks the RFC 8259 grammar, as a character offset, or null when it is valid.
 *
 * V8's `JSON.parse` messages give a position for some errors ("… in JSON at position 6") and for others echo the
 * text instead ("Unexpected token '}', "{"a":}" is not valid JSON"), so the offset is found here, only after
 * JSON.parse has failed. Iterative (an explicit stack), so a deeply nested body cannot overflow the call stack.
 */
export function jsonErrorOffset(s: string): number | null {
  const n = s.length;
  let i = 0;
  const stack: ('[' | '{')[] = [];

  const skipWs = (): void => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const isDigit = (k: number): boolean => k < n && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x39;

  /** At a `"`: moves past the closing quote and returns true, or stops at the offending character. */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
          continue;
        }
        if (e === 'u') {
          i += 2;
          for (let k = 0; k < 4; k++, i++) if (i >= n || !/[0-9a-fA-F]/u.test(s[i]!)) return false;
          continue;
        }
        i++;
        return false;
      }
      i++;
    }
    return false;
  };

  const number = (): boolean => {
    if (s[i] === '-') i++;
    if (s[i] === '0') i++;
    else if (isDigit(i)) while (isDigit(i)) i++;
    else return false;
    if (s[i] === '.') {
      i++;
      if (!isDigit(i)) return false;
      while (isDigit(i)) i++;
    }
    if (s[i] === 'e' || s[i] === 'E') {
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      if (!isDigit(i)) return false;
      while (isDigit(i)) i++;
    }
    return true;
  };

  const literal = (word: string): boolean => {
    for (const ch of word) {
      if (s[i] !== ch) return false;
      i++;
    }
    return true;
  };

  /** After `{` or `,` in an object: a key and its colon. */
  const key = (): boolean => {
    skipWs();
    if (s[i] !== '"' || !string()) return false;
    skipWs();
    if (s[i] !== ':') return false;
    i++;
    return true;
  };

  let expectValue = true;
  for (;;) {
    skipWs();
    if (expectValue) {
      const c = s[i];
      if (c === '{') {
        i++;
        skipWs();
        if (s[i] === '}') {
          i++;
          expectValue = false;
          continue;
        }
        stack.push('{');
        if (!key()) return i;
        continue;
      }
      if (c === '[') {
        i++;
        skipWs();
        if (s[i] === ']') {
          i++;
          expectValue = false;
          continue;
        }
        stack.push('[');
        continue;
      }
      const ok =
        c === '"' ? string() : c === '-' || isDigit(i) ? number() : c === 't' ? literal('true') : c === 'f' ? literal('false') : c === 'n' ? literal('null') : false;
      if (!ok) return i;
      expectValue = false;
      continue;
    }
    const top = stack.at(-1);
    if (top === undefined) return i < n ? i : null;
    const c = s[i];
    if (c === ',') {
      i++;
      if (top === '{' && !key()) return i;
      expectValue = true;
    } else if ((top === '[' && c === ']') || (top === '{' && c === '}')) {
      i++;
      stack.pop();
    } else {
      return i;
    }
  }
}

/** 1-based line and column of a character offset, for a message a person can follow in an editor. */
export function lineAndColumn(s: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = s.indexOf('\n'); k !== -1 && k < offset; k = s.indexOf('\n', k + 1)) {
    line++;
    start = k + 1;
  }
  return { line, column: offset - start + 1 };
}
