// The Greengrass component: recipe.yaml against the recipe format, the config contract and the topics
// the agent really uses; gdk-config.json against the GDK CLI's format; and `npm run package` output
// (zips per platform, digests, a bundle that runs).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { buildProgram } from '../../src/cli/main.js';
import { ENV_VARIABLES } from '../../src/config/env.js';
import { configSchema } from '../../src/config/schema.js';
import { publishedTopics, subscribedTopics } from '../../src/jobs/topics.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readText = (file: string) => readFileSync(join(root, file), 'utf8');
const pkg = JSON.parse(readText('package.json')) as { version: string };

// --- the recipe format (RecipeFormatVersion 2020-01-25), as far as this component uses it ---
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const lifecycleStep = z.union([
  z.string().min(1),
  z
    .object({
      Script: z.string().min(1),
      RequiresPrivilege: z.boolean().optional(),
      Skipif: z
        .string()
        .regex(/^(onpath|exists) \S+$/)
        .optional(),
      Timeout: z.number().int().positive().optional(),
      Setenv: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
]);
const recipeSchema = z
  .object({
    RecipeFormatVersion: z.literal('2020-01-25'),
    ComponentName: z.string().regex(/^[a-zA-Z0-9-_.]+$/),
    ComponentVersion: z.string().regex(SEMVER),
    ComponentDescription: z.string().min(1),
    ComponentPublisher: z.string().min(1),
    ComponentDependencies: z.record(
      z.string(),
      z
        .object({
          VersionRequirement: z.string().min(1),
          DependencyType: z.enum(['HARD', 'SOFT']).optional(),
        })
        .strict(),
    ),
    ComponentConfiguration: z.object({ DefaultConfiguration: z.record(z.string(), z.unknown()) }).strict(),
    Manifests: z
      .array(
        z
          .object({
            Name: z.string().optional(),
            Platform: z.object({ os: z.string(), architecture: z.string() }).catchall(z.string()),
            Lifecycle: z
              .object({
                Setenv: z.record(z.string(), z.string()).optional(),
                Bootstrap: lifecycleStep.optional(),
                Install: lifecycleStep.optional(),
                Run: lifecycleStep.optional(),
                Startup: lifecycleStep.optional(),
                Shutdown: lifecycleStep.optional(),
                Recover: lifecycleStep.optional(),
              })
              .strict()
              .refine((l) => !(l.Run && l.Startup), { error: 'only one of Run and Startup' }),
            Artifacts: z.array(
              z
                .object({
                  URI: z.string().regex(/^s3:\/\/[^/]+\/.+/),
                  Unarchive: z.enum(['NONE', 'ZIP']).optional(),
                  Permission: z
                    .object({
                      Read: z.enum(['NONE', 'OWNER', 'ALL']).optional(),
                      Execute: z.enum(['NONE', 'OWNER', 'ALL']).optional(),
                    })
                    .strict()
                    .optional(),
                  Digest: z.string().optional(),
                  Algorithm: z.literal('SHA-256').optional(),
                })
                .strict(),
            ),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
type Recipe = z.infer<typeof recipeSchema>;

const accessControlSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z
      .object({
        policyDescription: z.string().optional(),
        operations: z.array(z.string()).min(1),
        resources: z.array(z.string()).min(1),
      })
      .strict(),
  ),
);

/** Recipe variables as the nucleus would substitute them, with sample values. */
function substituteRecipeVariables(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === 'string')
    return value.replace(/\{([\w.]+:[^}]+)\}/g, (m, name) => variables[name] ?? m);
  if (Array.isArray(value)) return value.map((v) => substituteRecipeVariables(v, variables));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteRecipeVariables(v, variables)]),
    );
  }
  return value;
}

/** Dotted paths of every leaf (arrays count as leaves, as Greengrass replaces them whole). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

const SAMPLE = { thingName: 'gg-core-7', region: 'eu-west-1' };
const recipeRaw = parse(readText('recipe.yaml')) as unknown;

describe('recipe.yaml', () => {
  const parsed = recipeSchema.safeParse(recipeRaw);
  const recipe = parsed.data as Recipe;
  const defaults = (recipe?.ComponentConfiguration.DefaultConfiguration ?? {}) as Record<string, unknown>;
  const { accessControl, ...agentConfig } = defaults;

  it('follows the recipe format', () => {
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('has the version of package.json and a reverse-domain name', () => {
    expect(recipe.ComponentVersion).toBe(pkg.version);
    expect(recipe.ComponentName).toMatch(/^[a-z]+\.[a-z]+\.[A-Za-z]+$/);
  });

  it('depends on the token exchange service (AWS credentials for the control plane), hard', () => {
    expect(recipe.ComponentDependencies['aws.greengrass.TokenExchangeService']).toEqual({
      VersionRequirement: expect.stringMatching(/^\^2\./),
      DependencyType: 'HARD',
    });
  });

  it('has a default configuration that the config contract accepts, with the contract defaults', () => {
    // The nucleus supplies thingName and region through AWS_IOT_THING_NAME and AWS_REGION.
    const config = substituteRecipeVariables(
      { ...SAMPLE, ...agentConfig },
      { 'iot:thingName': SAMPLE.thingName },
    );
    const result = configSchema.safeParse(config);
    expect(result.error?.issues ?? []).toEqual([]);
    // Except the stop timings, which fit the nucleus's 5 s between SIGTERM and SIGKILL (README).
    const contractDefaults = configSchema.parse({
      ...SAMPLE,
      jobId: result.data?.jobId,
      namespaceId: result.data?.namespaceId,
      transport: { kind: 'greengrass-ipc' },
      listen: { shutdownGraceSeconds: 1 },
      executor: { killGraceSeconds: 2 },
    });
    expect(result.data).toEqual(contractDefaults);
    const stopSeconds = result.data!.listen.shutdownGraceSeconds + result.data!.executor.killGraceSeconds;
    expect(stopSeconds).toBeLessThan(5);
    expect(result.data?.transport).toEqual({ kind: 'greengrass-ipc' });
  });

  it('lists every key of the config contract, except those Greengrass gives through the environment', () => {
    const fromEnvironment = new Set(
      ENV_VARIABLES.filter((v) => v.kind === 'default' && v.name.startsWith('AWS_')).map((v) => v.path),
    );
    expect([...fromEnvironment].sort()).toEqual(['region', 'thingName', 'transport']);
    const contractKeys = leafPaths(
      configSchema.parse({ ...SAMPLE, jobId: 'j', namespaceId: 'n', transport: { kind: 'greengrass-ipc' } }),
    );
    const recipeKeys = new Set(leafPaths(agentConfig));
    const missing = contractKeys.filter((k) => !recipeKeys.has(k) && !fromEnvironment.has(k));
    expect(missing).toEqual([]);
    expect(recipeKeys.has('thingName')).toBe(false);
    expect(recipeKeys.has('region')).toBe(false);
  });

  it("allows exactly the topics the agent subscribes and publishes to, on this device's own topics", () => {
    const policies = accessControlSchema.parse(accessControl);
    expect(Object.keys(policies)).toEqual(['aws.greengrass.ipc.mqttproxy']);
    const allowed = { subscribe: new Set<string>(), publish: new Set<string>() };
    for (const [id, policy] of Object.entries(policies['aws.greengrass.ipc.mqttproxy'] ?? {})) {
      expect(id.startsWith(`${recipe.ComponentName}:mqttproxy:`)).toBe(true);
      for (const op of policy.operations) {
        const set =
          op === 'aws.greengrass#SubscribeToIoTCore'
            ? allowed.subscribe
            : op === 'aws.greengrass#PublishToIoTCore'
              ? allowed.publish
              : undefined;
        expect(set, `operation ${op}`).toBeDefined();
        for (const resource of policy.resources) set?.add(resource);
      }
    }
    const config = configSchema.parse({ ...SAMPLE, ...agentConfig });
    const ids = { thingName: '{iot:thingName}', jobId: config.jobId, namespaceId: config.namespaceId };
    expect([...allowed.subscribe].sort()).toEqual(subscribedTopics(ids, config.listen.notifyTopics).sort());
    expect([...allowed.publish].sort()).toEqual(publishedTopics(ids).sort());
  });

  it('documents a correct accessControl merge for another job and namespace (README)', () => {
    const readme = readText('README.md');
    const block = readme
      .split('<!-- accessControl-merge-example -->')[1]
      ?.match(/```json\n([\s\S]*?)\n```/)?.[1];
    expect(block).toBeDefined();
    const merge = JSON.parse(block ?? '{}') as { jobId: string; namespaceId: string; accessControl: unknown };
    const ids = { thingName: '{iot:thingName}', jobId: merge.jobId, namespaceId: merge.namespaceId };
    const expected = accessControlSchema.parse(accessControl);
    const documented = accessControlSchema.parse(merge.accessControl);
    // Same policy ids as the recipe, so the merge replaces the default job's topics.
    expect(Object.keys(documented['aws.greengrass.ipc.mqttproxy'] ?? {})).toEqual(
      Object.keys(expected['aws.greengrass.ipc.mqttproxy'] ?? {}),
    );
    const resourcesFor = (op: string) =>
      Object.values(documented['aws.greengrass.ipc.mqttproxy'] ?? {})
        .filter((p) => p.operations.includes(op))
        .flatMap((p) => p.resources)
        .sort();
    const notify = { perJob: true, thing: true, thingNext: true };
    expect(resourcesFor('aws.greengrass#SubscribeToIoTCore')).toEqual(subscribedTopics(ids, notify).sort());
    expect(resourcesFor('aws.greengrass#PublishToIoTCore')).toEqual(publishedTopics(ids).sort());
  });

  it('uses no wildcard anywhere in accessControl', () => {
    const policies = Object.values(accessControlSchema.parse(accessControl)).flatMap((p) => Object.values(p));
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      expect(policy.operations).not.toContain('*');
      // `*` is a glob, `+` and `#` are MQTT wildcards; `${` would start an escape sequence.
      for (const resource of policy.resources) expect(resource).not.toMatch(/[*#+]|\$\{/);
    }
  });

  it('has a Linux manifest for amd64 and aarch64 that runs the bundled CLI unprivileged', () => {
    const commands = buildProgram({ stdout: () => {}, stderr: () => {} }, { exitCode: 0 }).commands.map((c) =>
      c.name(),
    );
    expect(recipe.Manifests.map((m) => m.Platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'aarch64' },
    ]);
    for (const manifest of recipe.Manifests) {
      const archive = `ggjobs-${manifest.Platform.architecture}`;
      const steps = Object.values(manifest.Lifecycle).filter((s) => typeof s === 'object' && 'Script' in s);
      expect(steps.length).toBeGreaterThanOrEqual(2);
      // Only Install is privileged (node check + the sudo rule); the agent itself runs unprivileged.
      expect(manifest.Lifecycle.Run).toMatchObject({ RequiresPrivilege: false });
      const install = manifest.Lifecycle.Install as { Script: string; RequiresPrivilege: boolean };
      expect(install.RequiresPrivilege).toBe(true);
      expect(install.Script).toContain(
        `&& node {artifacts:decompressedPath}/${archive}/dist/cli/ggjobs.mjs sudoers --apply --component ${recipe.ComponentName} --user-of {work:path} --install-handlers {artifacts:decompressedPath}/${archive}/handlers`,
      );
      expect(commands).toContain('sudoers');
      expect((install as { Setenv?: Record<string, string> }).Setenv).toEqual({
        GGJOBS_EXECUTOR_CONFIG: '{configuration:/executor}',
        GGJOBS_DEFAULT_HANDLER_DIRECTORY: `/usr/local/lib/ggjobs/${recipe.ComponentName}/handlers`,
      });
      const run = manifest.Lifecycle.Run as { Script: string };
      const match = run.Script.match(
        /^exec node (?:--[a-z-]+(?:=\d+)? )*\{artifacts:decompressedPath\}\/(\S+)\/dist\/cli\/ggjobs\.mjs (\S+)$/,
      );
      expect(match?.[1]).toBe(archive);
      expect(commands).toContain(match?.[2]);
      // the agent runs the handlers shipped in this platform's archive (the root-owned copy Install
      // made) unless configured otherwise
      expect((run as { Setenv?: Record<string, string> }).Setenv).toEqual({
        GGJOBS_DEFAULT_HANDLER_DIRECTORY: `/usr/local/lib/ggjobs/${recipe.ComponentName}/handlers`,
      });
      expect(manifest.Artifacts).toEqual([
        expect.objectContaining({
          URI: expect.stringMatching(new RegExp(`/${archive}\\.zip$`)),
          Unarchive: 'ZIP',
          Permission: { Read: 'OWNER', Execute: 'OWNER' },
        }),
      ]);
    }
  });
});

describe('gdk-config.json', () => {
  const gdkSchema = z
    .object({
      component: z.record(
        z.string(),
        z
          .object({
            author: z.string().min(1),
            version: z.string().regex(SEMVER),
            build: z
              .object({ build_system: z.literal('custom'), custom_build_command: z.array(z.string()).min(1) })
              .strict(),
            publish: z
              .object({ bucket: z.string().min(3), region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/) })
              .strict(),
          })
          .strict(),
      ),
      gdk_version: z.string().regex(SEMVER),
    })
    .strict();

  it('builds this component with `npm run package` and publishes the same name and version', () => {
    const gdk = gdkSchema.parse(JSON.parse(readText('gdk-config.json')));
    const recipe = recipeSchema.parse(recipeRaw);
    expect(Object.keys(gdk.component)).toEqual([recipe.ComponentName]);
    const component = gdk.component[recipe.ComponentName]!;
    expect(component.version).toBe(pkg.version);
    expect(component.author).toBe(recipe.ComponentPublisher);
    expect(component.build.custom_build_command).toEqual(['npm', 'run', 'package']);
    expect(
      (JSON.parse(readText('package.json')) as { scripts: Record<string, string> }).scripts.package,
    ).toBe('node scripts/package.mjs');
  });
});

/** Names and unix modes of the entries of a zip file, read from its central directory. */
function zipEntries(zip: Buffer): Array<{ name: string; mode: number }> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: Array<{ name: string; mode: number }> = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), mode });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe('npm run package', () => {
  const out = mkdtempSync(join(tmpdir(), 'ggjobs-package-'));
  let packaging: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    packaging = spawnSync(process.execPath, ['scripts/package.mjs', '--out', out, '--bucket', 'my-bucket'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes one zip per platform with its own aws-crt binary only, and a recipe with their digests', () => {
    expect(packaging.stderr).toBe('');
    expect(packaging.status).toBe(0);
    const recipe = recipeSchema.parse(parse(readFileSync(join(out, 'recipes/recipe.yaml'), 'utf8')));
    const name = recipe.ComponentName;
    expect(readFileSync(join(out, `recipes/${name}-${pkg.version}.yaml`), 'utf8')).toBe(
      readFileSync(join(out, 'recipes/recipe.yaml'), 'utf8'),
    );
    const crtDirs = { amd64: 'linux-x64-glibc', aarch64: 'linux-arm64-glibc' } as Record<string, string>;
    for (const manifest of recipe.Manifests) {
      const arch = manifest.Platform.architecture;
      const zipPath = join(out, 'artifacts', name, pkg.version, `ggjobs-${arch}.zip`);
      const zip = readFileSync(zipPath);
      expect(manifest.Artifacts[0]).toMatchObject({
        URI: `s3://my-bucket/${name}/${pkg.version}/ggjobs-${arch}.zip`,
        Digest: createHash('sha256').update(zip).digest('base64'),
        Algorithm: 'SHA-256',
      });
      const entries = zipEntries(zip);
      const names = entries.map((e) => e.name);
      expect(names).toContain('package.json');
      expect(names).toContain('dist/cli/ggjobs.mjs');
      expect(names).toContain('handlers/echo.sh');
      expect(names.filter((n) => n.endsWith('.node'))).toEqual([
        `dist/cli/aws-crt/bin/${crtDirs[arch]}/aws-crt-nodejs.node`,
      ]);
      expect(names.some((n) => n.includes('node_modules'))).toBe(false);
      for (const entry of entries.filter((e) => e.name.startsWith('handlers/') && e.name.endsWith('.sh'))) {
        expect(entry.mode & 0o100, `${entry.name} executable`).toBe(0o100);
      }
      expect(statSync(zipPath).size).toBeLessThan(20 * 1024 * 1024);
    }
  });

  it('bundles neither the local stack nor the demo, and keeps the AWS SDK out of the start-up file', () => {
    expect(packaging.status).toBe(0);
    const inputs = JSON.parse(readFileSync(join(out, 'bundle-inputs.json'), 'utf8')) as Record<
      string,
      string[]
    >;
    const all = Object.values(inputs).flat();
    expect(all).toContain('src/agent.ts');
    expect(all.filter((i) => i.startsWith('src/local/') || i.startsWith('src/cli/demo/'))).toEqual([]);
    expect(all.filter((i) => i.includes('node_modules/aedes'))).toEqual([]);
    // ggjobs.mjs is what every start reads: the entry point alone (it answers --version); the commands
    // with commander, and the SDK (only for a control-plane call), are in chunks imported on demand.
    const entry = inputs['ggjobs.mjs'] ?? [];
    expect(entry).toContain('src/cli/entry.ts');
    expect(entry.filter((i) => i.includes('node_modules'))).toEqual([]);
    const mainChunk = Object.entries(inputs).find(([, files]) => files.includes('src/cli/main.ts'));
    expect(mainChunk?.[0]).not.toBe('ggjobs.mjs');
    expect(mainChunk?.[1].some((i) => i.includes('node_modules/commander/'))).toBe(true);
    expect(all.some((i) => i.includes('node_modules/@aws-sdk/client-iot/'))).toBe(true);
  });

  it('stages a bundle that runs without node_modules and prints the package version', () => {
    expect(packaging.status).toBe(0);
    const arch = process.arch === 'arm64' ? 'aarch64' : 'amd64';
    const res = spawnSync(
      process.execPath,
      [join(out, `stage/ggjobs-${arch}/dist/cli/ggjobs.mjs`), '--version'],
      {
        cwd: tmpdir(),
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(res.stdout.trim()).toBe(pkg.version);
    expect(res.status).toBe(0);
  });
});
