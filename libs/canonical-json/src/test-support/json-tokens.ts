// A small reader of JSON text used by property tests to look at the text
// itself (whitespace, key order), which JSON.parse hides.

/** Object keys in the order they appear, one list per object, in document order. */
export interface TextShape {
  readonly objectKeys: string[][];
  /** Whitespace characters found outside strings. */
  readonly whitespaceOutsideStrings: number;
}

export function readShape(text: string): TextShape {
  const objectKeys: string[][] = [];
  const open: (string[] | null)[] = []; // null for arrays
  let whitespace = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const token = text.slice(i, j + 1);
      const top = open[open.length - 1];
      if (expectKey && top) top.push(JSON.parse(token) as string);
      expectKey = false;
      i = j;
    } else if (c === '{') {
      const keys: string[] = [];
      objectKeys.push(keys);
      open.push(keys);
      expectKey = true;
    } else if (c === '[') {
      open.push(null);
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectKey = open[open.length - 1] !== null;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      whitespace++;
    }
  }
  return { objectKeys, whitespaceOutsideStrings: whitespace };
}
