// Checks that reject instructions BuildKit's parser accepts but its instruction layer
// (instructions/parse.go) refuses: missing or surplus arguments, blank names, bad stage
// names, SHELL outside JSON form, forbidden ONBUILD triggers. Returns the message, if any.
//
// Deliberately absent: HEALTHCHECK without a command or with an unknown type, and unknown
// flags — the reference parser's own golden files accept those.

import type { Instruction } from './types.js';
import { messages } from './errors.js';
import { parseHeredocWord } from './heredoc.js';
import { goQuote } from './quote.js';
import { trimGoSpace } from './text.js';

const STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;

export function validate(instruction: Instruction): string | undefined {
  const { keyword, args } = instruction;
  switch (keyword) {
    case 'FROM':
      return validateFrom(args);
    case 'ENV':
    case 'LABEL':
      if (args.length === 0) return messages.atLeastOneArgument(keyword);
      for (let i = 0; i < args.length; i += 3) if (args[i] === '') return messages.blankNames(keyword);
      return undefined;
    case 'ARG':
      if (args.length === 0) return messages.atLeastOneArgument(keyword);
      if (args.some((a) => a.startsWith('='))) return messages.blankNames(keyword);
      return undefined;
    case 'MAINTAINER':
    case 'STOPSIGNAL':
    case 'USER':
    case 'WORKDIR':
      return args.length === 1 ? undefined : messages.exactlyOneArgument(keyword);
    case 'EXPOSE':
      return args.length === 0 ? messages.atLeastOneArgument(keyword) : undefined;
    case 'VOLUME':
      if (args.length === 0) return messages.atLeastOneArgument(keyword);
      return args.some((v) => trimGoSpace(v).text === '') ? messages.emptyVolume() : undefined;
    case 'ADD':
    case 'COPY':
      if (args.length < 2) return messages.noDestination(keyword);
      return isHeredocWord(args[args.length - 1]!) ? messages.heredocDestination(keyword) : undefined;
    case 'SHELL':
      if (args.length === 0) return messages.atLeastOneArgument(keyword);
      return instruction.json ? undefined : messages.shellNotJson();
    case 'ONBUILD':
      return validateOnbuild(instruction.onbuild);
    case 'HEALTHCHECK':
      return args[0]?.toUpperCase() === 'NONE' && args.length > 1 ? messages.healthcheckNone() : undefined;
    default:
      return undefined;
  }
}

function validateFrom(args: string[]): string | undefined {
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    return STAGE_NAME.test(args[2]!.toLowerCase()) ? undefined : messages.stageName(goQuote(args[2]!));
  }
  return args.length === 1 ? undefined : messages.fromArguments();
}

function validateOnbuild(trigger: Instruction | undefined): string | undefined {
  if (!trigger) return messages.atLeastOneArgument('ONBUILD');
  if (trigger.keyword === 'ONBUILD') return messages.onbuildChain();
  if (trigger.keyword === 'FROM' || trigger.keyword === 'MAINTAINER') return messages.onbuildTrigger(trigger.keyword);
  return undefined;
}

function isHeredocWord(word: string): boolean {
  try {
    return parseHeredocWord(word) !== undefined;
  } catch {
    return false; // BuildKit's MustParseHeredoc: a malformed marker is not a heredoc
  }
}
