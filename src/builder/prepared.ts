// What preparing a plan gives the executor: each stage's steps with their actions, key inputs
// and keys, its config and history rows (prepare.ts makes them).
import type { NetworkMode } from '../runtime/index.js';
import type { Image, ImageConfig } from '../store/index.js';
import type { KeyInputs } from './cache-key.js';
import type { ChmodSpec } from './chmod.js';
import type { Selected } from './copy-select.js';
import type { IgnoreMatcher } from './dockerignore.js';
import type { GitSource } from './git-source.js';
import type { RunMount } from './mounts.js';
import type { Platform } from './args.js';
import type { Stage } from './planner.js';

export type StepAction =
  | { type: 'run'; argv: string[]; env: string[]; user: string; cwd: string; network: NetworkMode; mounts: RunMount[]; volumes: string[] }
  | {
      type: 'copy'; add: boolean; selections: Selected[];
      /** COPY --parents: sources keep their parent directories (after a "/./" pivot). */
      parents: boolean;
      /** Source paths in the --from stage or image. */
      paths: string[]; heredocs: { name: string; content: string }[]; urls: string[];
      dest: string; cwd: string; chown?: string; chmod?: ChmodSpec; exclude?: IgnoreMatcher; checksum?: string;
      from?: { stage: number } | { image: Image };
      /** ADD of git repositories, each with the commit its ref resolved to. */
      git?: { source: GitSource; commit: string; fetchRef: string; keepGitDir: boolean }[];
    }
  | { type: 'workdir'; path: string; user: string };

export interface PreparedStep {
  stage: number;
  /** 1-based position among the stage's steps (FROM is 1). */
  position: number;
  display: string;
  line: number;
  action: StepAction;
  inputs: KeyInputs;
  key: string;
  slot: string;
  /** Without the " # buildkit" suffix. */
  createdBy: string;
  /**
   * COPY/ADD --link: the key of its layer alone (its inputs without the parent): a changed
   * parent reuses the layer, as BuildKit does. The copy is made over the stage's tree as
   * without --link (existing directories keep their owner); a layer reused on another parent
   * carries the directories it was made with.
   */
  linkKey?: string;
}

/** One history row of the final config; `step` links a layer step's row to its step. */
export interface HistoryTemplate {
  createdBy: string;
  step?: PreparedStep;
}

export interface PreparedStage {
  stage: Stage;
  label: string;
  /** The base: an image, another stage, or nothing (scratch). */
  baseImage?: Image;
  baseStage?: number;
  /** The platform the stage is built for (FROM --platform, else the build's). */
  platform: Platform;
  fromDisplay: string;
  steps: PreparedStep[];
  /** Config after every instruction (history/rootfs are filled in by the executor). */
  config: ImageConfig;
  history: HistoryTemplate[];
  /**
   * A stage of metadata only (ENV, LABEL, CMD... on its base, no step): the time its history
   * rows carry is recorded in the cache under this key, so the first build dates them by the
   * build (as podman does, not by the base image) and a rebuild gives the same image.
   */
  metadata?: { key: string; inputs: KeyInputs; slot: string; display: string };
  /** Key of the stage's last step: what COPY --from and FROM of this stage depend on. */
  finalKey: string;
}

/**
 * A step about to be prepared in a stage the target image is built on: its place in the
 * Dockerfile and the key it builds on, known before its own inputs are (a COPY's need the
 * context hashed), so that a shared cache can start fetching what it will likely hit.
 */
export interface StepParent {
  /** The stage's label (its name, else stage-N). */
  stage: string;
  /** The step's 1-based position among the stage's steps (FROM is 1). */
  position: number;
  parent: string;
}
