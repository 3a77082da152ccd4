// Static reading of deploy/Dockerfile: its instructions, and the rules of
// our own that hadolint does not enforce (a pinned base, a numeric non-root
// user, no remote ADD, an exec-form entry point). No Docker engine needed.

export interface Instruction {
  /** 1-based line of the instruction's first line. */
  readonly line: number;
  /** Upper-case keyword, e.g. `COPY`. */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined by a space. */
  readonly args: string;
}

export interface Stage {
  readonly name: string | undefined;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/** Instructions in order; comments, blank lines and parser directives are left out. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const first = lines[i] ?? '';
    if (first.trim() === '' || first.trimStart().startsWith('#')) continue;
    const start = i;
    let joined = first;
    while (joined.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      if (next.trimStart().startsWith('#')) continue; // comments inside a continued instruction
      joined = `${joined.trimEnd().slice(0, -1)} ${next.trim()}`;
    }
    const match = /^\s*(\S+)\s*(.*)$/.exec(joined);
    if (match === null) continue;
    out.push({ line: start + 1, keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim() });
  }
  return out;
}

/** Default values of the ARGs declared before the first FROM. */
function globalArgs(instructions: readonly Instruction[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') break;
    if (ins.keyword !== 'ARG') continue;
    const [name, value] = ins.args.split('=', 2);
    if (name !== undefined && value !== undefined) args.set(name.trim(), value.trim());
  }
  return args;
}

function substitute(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => args.get(name) ?? whole);
}

/** The build stages with their base image (global ARGs substituted). */
export function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const args = globalArgs(instructions);
  const stages: { name: string | undefined; image: string; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = substitute(words[0] ?? '', args);
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ name: asIndex === -1 ? undefined : words[asIndex + 1], image, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return stages;
}

/** True for `name:tag` with a version-like tag (not `latest`), or any `@sha256:` digest. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && /\d/.test(tag);
}

/** `ENV A=1 B=2` pairs of one stage, in order. */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const ins of stage.instructions) {
    if (ins.keyword !== 'ENV') continue;
    for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
      env.set(m[1] ?? '', (m[2] ?? '').replace(/^"(.*)"$/, '$1'));
    }
  }
  return env;
}

/** Problems with our rules; empty when the Dockerfile follows them. */
export function checkDockerfilePolicy(text: string): string[] {
  const instructions = parseDockerfile(text);
  const stages = stagesOf(instructions);
  const problems: string[] = [];
  const stageNames = new Set<string>();
  for (const stage of stages) {
    if (!stageNames.has(stage.image) && !isPinnedImage(stage.image)) {
      problems.push(`FROM ${stage.image}: pin the base image to a version tag or a digest`);
    }
    if (stage.name !== undefined) stageNames.add(stage.name);
  }
  for (const ins of instructions) {
    if (ins.keyword === 'ADD' && /(^|\s)(https?|ftp|git):\/\/|(^|\s)git@/.test(ins.args)) {
      problems.push(`line ${ins.line}: ADD of a remote source; fetch in a RUN step with a checksum, or COPY`);
    }
  }
  const final = stages.at(-1);
  if (final === undefined) return [...problems, 'no FROM instruction'];
  const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args.split(':')[0];
  if (user === undefined) problems.push('the final stage sets no USER, so it runs as root');
  else if (!/^\d+$/.test(user)) problems.push(`USER ${user}: use a numeric uid, so that runAsNonRoot can verify it`);
  else if (Number(user) === 0) problems.push('USER 0: the final stage must not run as root');
  const entrypoint = final.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  if (entrypoint === undefined) problems.push('the final stage has no ENTRYPOINT');
  else if (!entrypoint.args.startsWith('[')) problems.push('ENTRYPOINT in shell form: a shell as PID 1 does not pass SIGTERM on');
  return problems;
}

/** Sources of the `COPY` instructions that read the build context (no `--from`). */
export function contextCopies(stage: Stage): { sources: string[]; dest: string }[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' && !/(^|\s)--from=/.test(i.args))
    .map((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      return { sources: words.slice(0, -1), dest: words.at(-1) ?? '' };
    });
}
