/**
 * `dirbridge completion bash|zsh`: a completion script made from the command tree itself, so it
 * never lists a command or option that is not there. Install: `dirbridge completion bash >
 * /etc/bash_completion.d/dirbridge`, or for zsh into a folder on $fpath as `_dirbridge`.
 */
import type { Command } from 'commander';
import { UsageError } from '../shared.js';

interface Node {
  path: string[];
  words: string[];
}

/** Every command path with what may follow it: its subcommands and its options. */
function tree(program: Command): Node[] {
  const nodes: Node[] = [];
  const walk = (cmd: Command, path: string[]): void => {
    const options = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
    nodes.push({ path, words: [...cmd.commands.map((c) => c.name()), ...options, '--help'] });
    for (const c of cmd.commands) walk(c, [...path, c.name()]);
  };
  walk(program, []);
  return nodes;
}

function bash(program: Command): string {
  const cases = tree(program)
    .map((n) => `    "${n.path.join(' ')}") words="${n.words.join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for dirbridge (dirbridge completion bash)
_dirbridge() {
  local cur path="" w i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  # The command path so far: the words before the cursor that are not options or their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -*) ;;
      *) case " $(_dirbridge_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac ;;
    esac
  done
  words="$(_dirbridge_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_dirbridge_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -o default -F _dirbridge dirbridge
`;
}

function zsh(program: Command): string {
  const cases = tree(program)
    .map((n) => `    "${n.path.join(' ')}") candidates=(${n.words.join(' ')}) ;;`)
    .join('\n');
  // $words is zsh's own array of the command line; the candidates get a name of their own.
  return `#compdef dirbridge
# zsh completion for dirbridge (dirbridge completion zsh > "\${fpath[1]}/_dirbridge")
_dirbridge() {
  local path_so_far="" w
  local -a candidates line
  line=("\${(@)words[2,CURRENT-1]}")
  for w in "\${line[@]}"; do
    [[ "$w" == -* ]] && continue
    _dirbridge_words "$path_so_far"
    (( \${candidates[(Ie)$w]} )) && path_so_far="\${path_so_far:+$path_so_far }$w"
  done
  _dirbridge_words "$path_so_far"
  compadd -a candidates
}
_dirbridge_words() {
  candidates=()
  case "$1" in
${cases}
  esac
}
_dirbridge "$@"
`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('a shell completion script for bash or zsh, on stdout')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      '\nExamples:\n  dirbridge completion bash | sudo tee /etc/bash_completion.d/dirbridge\n  dirbridge completion zsh > "${fpath[1]}/_dirbridge"',
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion is for bash or zsh, not "${shell}"`);
      process.stdout.write(shell === 'bash' ? bash(program) : zsh(program));
    });
}
