// The .dockerignore rules as BuildKit applies them (moby/patternmatcher):
// patterns in order, the last one that matches a path or any of its parent
// directories decides, `!` lets a path back in; `*` stays within one path
// segment, `**` spans any number of them.

interface Pattern {
  readonly exclusion: boolean;
  readonly regex: RegExp;
}

function toRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      i += 1;
      if (pattern[i + 1] === '/') {
        i += 1;
        out += '(?:.*/)?';
      } else {
        out += '.*';
      }
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/** Patterns of an ignore file: comments and blank lines dropped, paths cleaned. */
export function parseDockerignore(text: string): Pattern[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exclusion = line.startsWith('!');
      const cleaned = (exclusion ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { exclusion, regex: toRegex(cleaned) };
    });
}

/** Whether `path` (relative to the context root, `/`-separated) is left out of the build context. */
export function isIgnored(path: string, patterns: readonly Pattern[]): boolean {
  const segments = path.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    if (candidates.some((candidate) => pattern.regex.test(candidate))) ignored = !pattern.exclusion;
  }
  return ignored;
}
